import { afterEach, describe, expect, it } from 'vitest';
import type { FakeEngineOptions } from '../../../src/ui/dev/fake-engine';
import { $, $all, $maybe, mountApp, type Mounted, text, waitFor } from './helpers';

let m: Mounted;
afterEach(async () => {
  await m?.dispose();
});

const statusLine = () => text($maybe(m.root, 'model-status', '.line'));
const guidance = () => text($maybe(m.root, 'chat-view', 'chat-empty', '.steps'));
const general = () => $(m.root, 'settings-panel', 'settings-general');
/** The model list: each model's full name and its first download here. */
const modelList = () => $all(general(), [], '.models label.model').map((l) => text(l.querySelector('.name')) + text(l.querySelector('.size')));

async function openSettings() {
  $(m.root, 'header button.settings').click();
  // The dialog's code loads on first use.
  const panel = await waitFor(() => $maybe(m.root, 'settings-panel'), 5000, 'the settings dialog');
  await waitFor(() => $maybe(panel, 'dialog[open]'), 2000, 'the dialog');
  return panel;
}

/**
 * The first download, as the page tells it before anything is fetched, on each device path: the exact
 * 256M figure (its hub files plus configs and tokenizer) and estimates ("about") for the bigger checkpoints.
 */
describe.each<{ name: string; engine: FakeEngineOptions; size: string; path: string; others: string[] }>([
  {
    name: 'WebGPU with shader-f16',
    engine: { device: 'webgpu', shaderF16: true },
    size: '325 MB',
    path: 'WebGPU with 16-bit floats',
    others: ['SmolVLM 500M· about 500 MB', 'SmolVLM2 256M· about 320 MB', 'SmolVLM2 500M· about 500 MB'],
  },
  {
    name: 'WebGPU without shader-f16',
    engine: { device: 'webgpu', shaderF16: false },
    size: '578 MB',
    path: 'WebGPU without 16-bit floats',
    others: ['SmolVLM 500M· about 820 MB', 'SmolVLM2 256M· about 580 MB', 'SmolVLM2 500M· about 820 MB'],
  },
  {
    name: 'WASM',
    engine: { device: 'wasm' },
    size: '263 MB',
    path: 'WASM',
    others: ['SmolVLM 500M· about 520 MB', 'SmolVLM2 256M· about 260 MB', 'SmolVLM2 500M· about 520 MB'],
  },
])('the first download on $name', ({ engine, size, path, others }) => {
  it(`says ${size} before downloading: first-run guidance, model status, model list`, async () => {
    m = await mountApp({ engine });
    await waitFor(() => statusLine().includes(`Not downloaded yet (${size}, once)`), 3000, `the status line with ${size}`);
    await waitFor(() => guidance().includes(`The first answer downloads the model once (${size} on this device); after that it works offline.`), 3000, 'the guidance');
    expect(m.engine.loads).toBe(0); // said before anything was fetched

    await openSettings();
    expect(modelList()).toEqual([`SmolVLM 256M· ${size}`, ...others]);
    // Full names: the hub id of each, not cut.
    expect($all(general(), [], '.models .id').map((e) => text(e).split(' — ')[0])).toEqual([
      'HuggingFaceTB/SmolVLM-256M-Instruct', 'HuggingFaceTB/SmolVLM-500M-Instruct', 'HuggingFaceTB/SmolVLM2-256M-Video-Instruct', 'HuggingFaceTB/SmolVLM2-500M-Video-Instruct',
    ]);
    expect(text($(general(), '.models .sizes'))).toBe(`Sizes are what this device downloads, once (${path}).`);
  });
});

describe('the first download', () => {
  it('follows the model chosen in settings, and says "about" for an estimate', async () => {
    m = await mountApp();
    await waitFor(() => statusLine().includes('(325 MB, once)'), 3000, 'the 256M size');
    await openSettings();
    const radio = $<HTMLInputElement>(general(), '.models input[value="HuggingFaceTB/SmolVLM-500M-Instruct"]');
    radio.click();
    await waitFor(() => statusLine().includes('SmolVLM 500M') && statusLine().includes('Not downloaded yet (about 500 MB, once)'), 3000, 'the 500M estimate');
    await waitFor(() => guidance().includes('(about 500 MB on this device)'), 3000, 'the guidance');
  });

  it('the simulated download fetches what was announced', async () => {
    m = await mountApp({ engine: { device: 'wasm' } });
    await waitFor(() => statusLine().includes('(263 MB, once)'), 3000, 'the size');
    $(m.root, 'model-status', 'button.download').click();
    await waitFor(() => /of 263 MB/.test(text($maybe(m.root, 'model-status', '.progress .figures'))), 3000, 'the progress with the same total');
    const files = $all(m.root, ['model-status'], '.progress details li .name').map((f) => text(f));
    expect(files.slice(0, 3)).toEqual(['onnx/vision_encoder_quantized.onnx', 'onnx/embed_tokens_quantized.onnx', 'onnx/decoder_model_merged_quantized.onnx']);
  });
});
