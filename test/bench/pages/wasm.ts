/**
 * WASM engine bench page: the app's page client and engine worker on WebAssembly (no WebGPU), on the tiny
 * generated model served from /.models/tiny/. Times the load, a first turn with an image and a follow-up.
 */
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import { EngineClient } from '../../../src/engine/client';
import type { GenerateInput } from '../../../src/engine/protocol';
import type { WasmResult, WasmRun } from './api';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const user = (text: string, image = false): ChatMessage => ({ role: 'user', content: makeContent(text, image), timestamp: '' });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: makeContent(text, false), timestamp: '' });

async function photo(): Promise<{ blob: Blob; hash: string }> {
  const canvas = new OffscreenCanvas(512, 512);
  const ctx = canvas.getContext('2d')!;
  for (let i = 0; i < 24; i++) {
    ctx.fillStyle = `hsl(${(i * 37) % 360} 80% 50%)`;
    ctx.fillRect((i * 53) % 512, (i * 31) % 512, 120, 90);
  }
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return { blob, hash: await hashBlob(blob) };
}

async function wasm({ runs, tokens }: { runs: number; tokens: number }): Promise<WasmResult> {
  const settings: GenerationSettings = { ...DEFAULT_GENERATION, model: MODEL, maxNewTokens: tokens, imageDetail: 'auto' };
  const input = (messages: ChatMessage[], image: { blob: Blob; hash: string }): GenerateInput => ({ sessionId: 'bench', messages, image, settings });
  const client = new EngineClient({ source: { kind: 'local', localModelPath: '/.models/tiny/' }, model: MODEL, forceDevice: 'wasm' });
  const img = await photo();
  const t0 = performance.now();
  await client.load();
  const loadMs = performance.now() - t0;
  await client.generate(input([user('warm up', true)], img)); // first-run allocations
  const out: WasmRun[] = [];
  for (let r = 0; r < runs; r++) {
    await client.reset();
    const first = [user('What is in this picture?', true)];
    const a = await client.generate(input(first, img));
    const b = await client.generate(input([...first, assistant(a.text), user('And the colours?')], img));
    out.push({
      ttftMs: a.stats.timeToFirstTokenMs,
      tokensPerSecond: a.stats.tokensPerSecond,
      tokens: a.stats.tokens,
      imageTokens: a.stats.imageTokens,
      followupTtftMs: b.stats.timeToFirstTokenMs,
      followupVisionRan: b.stats.visionRan,
    });
  }
  client.dispose();
  return { loadMs, crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, runs: out };
}

window.glimpseBench = { wasm };
