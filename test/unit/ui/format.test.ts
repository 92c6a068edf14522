import { describe, expect, it } from 'vitest';
import { windowStart } from '../../../src/chat/context';
import { MODELS } from '../../../src/engine/models';
import { devicePath, downloadText, mb, modelHelp, size, windowHelp } from '../../../src/ui/format';

const M256 = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const f16 = { device: 'webgpu', shaderF16: true } as const;

describe('sizes', () => {
  it('are decimal, as the hub shows them', () => {
    expect(mb(3_548_256)).toBe('3.5 MB');
    expect(mb(324_684_747)).toBe('325 MB');
    expect(size(1_028_498_218)).toBe('1.0 GB');
    expect(size(999_400_000)).toBe('999 MB');
    expect(mb(7_353)).toBe('7.4 kB'); // config.json in the download list, not "0.0 MB"
    expect(mb(28_249)).toBe('28 kB');
    expect(mb(68)).toBe('68 B');
  });

  it('downloadText: exact for the 256M, "about" (to 10 MB) for an estimate, nothing when unknown', () => {
    expect(downloadText(M256, f16)).toBe('325 MB');
    expect(downloadText(M256, { device: 'webgpu', shaderF16: false })).toBe('578 MB');
    expect(downloadText(M256, { device: 'wasm', shaderF16: false })).toBe('263 MB');
    expect(downloadText(M256, { device: 'cpu', shaderF16: false })).toBe('1.0 GB');
    expect(downloadText('HuggingFaceTB/SmolVLM-500M-Instruct', f16)).toBe('about 500 MB');
    expect(downloadText(M256, null)).toBeNull();
    expect(downloadText('local/my-folder', f16)).toBeNull();
  });

  it('devicePath names the dtype path', () => {
    expect(devicePath(f16)).toBe('WebGPU with 16-bit floats');
    expect(devicePath({ device: 'webgpu', shaderF16: false })).toBe('WebGPU without 16-bit floats');
    expect(devicePath({ device: 'wasm', shaderF16: false })).toBe('WASM');
  });
});

describe('the context-window setting’s help (issue 23)', () => {
  it('says how many messages are in context, as the window’s own rule gives them', () => {
    for (const size of [20, 10, 2, 7]) {
      const inContext = Array.from({ length: 100 }, (_, i) => size + 1 + i).map((count) => count - windowStart(count, size));
      const [least, most] = [Math.min(...inContext), Math.max(...inContext)];
      const help = windowHelp(size);
      expect(help).toContain(least < most ? `between ${least} and ${most} of the latest messages` : `the latest ${most} messages`);
    }
    expect(windowHelp(20)).toContain('between 11 and 20 of the latest messages: the window moves 10 messages at a time');
  });
});

describe('the model list says plainly which checkpoints no test has run (issue 23)', () => {
  it('marks the SmolVLM2 entries, whose hub files were never available to a test, and only those', () => {
    const untested = MODELS.filter((m) => /Not tested yet/.test(modelHelp(m))).map((m) => m.id);
    expect(untested).toEqual(['HuggingFaceTB/SmolVLM2-256M-Video-Instruct', 'HuggingFaceTB/SmolVLM2-500M-Video-Instruct']);
    expect(modelHelp(MODELS[0]!)).toBe(MODELS[0]!.description);
  });
});
