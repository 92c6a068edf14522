import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import { EngineClient } from '../../../src/engine/client';
import type { Device, GenerateInput } from '../../../src/engine/protocol';
import { WorkerCrashedError } from '../../../src/errors';
import { cutMidCharacter, firstCutInside, pictureCached, turnOn, typedControlTokens, wholeConversation } from '../../fixtures/cache-script';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const source = { kind: 'local' as const, localModelPath: '/.models/tiny/' };
// WebGPU on SwiftShader (a CPU emulation) loads the tiny model whose decoder computes the last position's
// logits only: the same files and answers (test/unit/fixtures/last-logits.test.ts) without 49,280 logits per
// prompt position. The faithful model runs on WebGPU in device.test.ts and on WASM here.
const lastLogits = { kind: 'local' as const, localModelPath: '/.models/tiny-last-logits/' };
const settings: GenerationSettings = { ...DEFAULT_GENERATION, model: MODEL, maxNewTokens: 10, repetitionPenalty: 1, imageDetail: 'low' };
const user = (text: string, image = false): ChatMessage => ({ role: 'user', content: makeContent(text, image), timestamp: '' });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: makeContent(text, false), timestamp: '' });

async function photo(seed: number): Promise<{ blob: Blob; hash: string }> {
  const canvas = new OffscreenCanvas(320, 240);
  const ctx = canvas.getContext('2d')!;
  for (let i = 0; i < 12; i++) {
    ctx.fillStyle = `hsl(${(i * 37 + seed * 91) % 360} 80% 50%)`;
    ctx.fillRect((i * 53) % 320, (i * 31 + seed * 7) % 240, 80, 60);
  }
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return { blob, hash: await hashBlob(blob) };
}

const input = (messages: ChatMessage[], image: { blob: Blob; hash: string } | null): GenerateInput => ({
  sessionId: 's', messages, image, settings,
});

/**
 * Two workers on the same device: `cached` keeps its KV cache between turns, `fresh` is reset before every
 * turn (a reload). WASM runs the q8 files, whose per-tensor activation quantization makes a chunked prefill
 * differ from a whole one (test/fixtures/cache-script.ts, PathOptions): there the prompts must match, not
 * the answers. WebGPU on SwiftShader (no shader-f16) runs fp32 vision/embeddings and the q4 decoder.
 */
function pair(device: Device) {
  const from = device === 'webgpu' ? lastLogits : source;
  const cached = new EngineClient({ source: from, model: MODEL, forceDevice: device });
  const fresh = new EngineClient({ source: from, model: MODEL, forceDevice: device });
  const freshRun = async (i: GenerateInput) => {
    await fresh.reset();
    return fresh.generate(i);
  };
  const turn = turnOn((i) => cached.generate(i), freshRun, { model: MODEL, exact: device === 'webgpu' });
  const dispose = () => {
    cached.dispose();
    fresh.dispose();
  };
  return { cached, freshRun, turn, dispose };
}

describe('the engine worker in real Chromium', () => {
  it('WASM (q8 files): a whole conversation feeds the same prompts as a fresh start (answers may differ: 8-bit activations)', async () => {
    const { cached, freshRun, turn, dispose } = pair('wasm');
    try {
      const [a, b] = [await photo(1), await photo(2)];
      await wholeConversation(turn, a, b);
      await cached.reset();
      await typedControlTokens(turn, a);
      await cached.reset();
      await cutMidCharacter(turn, () => firstCutInside(freshRun, MODEL));
    } finally {
      dispose();
    }
  }, 600_000);

  it('WebGPU on SwiftShader (fp32 + q4 files): streams, Continue, follow-up and regenerate from the GPU-held cache equal a fresh start', async () => {
    // SwiftShader runs WebGPU on the CPU, slowly: four short generations, each one that matters compared.
    // Two tokens each: the first is the prefill over the reused (or cut) GPU-held cache, the second a decode
    // step on the cache that prefill extended; later tokens would repeat that step, at 14-17 s a step on
    // SwiftShader here (load 25; the prefill of 14 new tokens took 8.5 s). One worker: the reference runs on
    // it after a full reset (no KV cache, no kept image features: it reads the picture again), a fresh start
    // without a second model load and shader compilation.
    const cached = new EngineClient({ source: lastLogits, model: MODEL, forceDevice: 'webgpu' });
    const freshRun = async (i: GenerateInput) => {
      await cached.reset();
      return cached.generate(i);
    };
    const dispose = () => cached.dispose();
    const input = (messages: ChatMessage[], image: { blob: Blob; hash: string } | null): GenerateInput => ({
      sessionId: 's', messages, image, settings: { ...settings, maxNewTokens: 2 },
    });
    const statuses: string[] = [];
    cached.addEventListener('status', (e) => statuses.push((e as CustomEvent<{ state: string }>).detail.state));
    const tokens: string[] = [];
    try {
      const img = await photo(1);
      const first = [user('What is this?', true)];
      const t1 = await cached.generate(input(first, img), { onToken: (t) => tokens.push(t) });
      expect(t1.stats).toMatchObject({ device: 'webgpu', tokens: 2 });
      expect(tokens.join('').trim()).toBe(t1.text.trim());
      expect(t1.stats.finishReason).toBe('length');
      // Continue from the GPU-held cache: all of it kept (only the last sampled token fed), the same answer grown.
      const more = await cached.generate({ ...input([...first, assistant(t1.text)], img), continueAnswer: true });
      expect(more.stats).toMatchObject({ tokens: 2, visionRan: false, promptTokens: t1.stats.promptTokens + 2 });
      expect(more.stats.cachedTokens).toBe(more.stats.promptTokens - 1);
      expect(more.text.startsWith(t1.text)).toBe(true);
      const follow = [...first, assistant(t1.text), user('More?')];
      const t2 = await cached.generate(input(follow, img));
      expect(pictureCached(t2.stats)).toBe(true);
      expect(t2.stats.cachedTokens).toBeGreaterThan(t1.stats.promptTokens);
      // Regenerate: the cache (GPU buffers) is read back and cut inside the prompt, the picture kept.
      const again = await cached.generate(input(follow, img));
      expect(pictureCached(again.stats)).toBe(true);
      const reference = await freshRun(input(follow, img));
      expect(reference.stats.cachedTokens).toBe(0);
      expect(reference.stats.visionRan).toBe(true);
      expect([t2.text, again.text]).toEqual([reference.text, reference.text]);
      expect(statuses).toEqual(expect.arrayContaining(['loading', 'ready', 'generating']));
    } finally {
      dispose();
    }
  }, 900_000); // bounds a hang: SwiftShader shares the CPU with every other test file

  it('a crashed worker is noticed, the caller gets a named error, and a fresh worker takes over', async () => {
    let made = 0;
    const crashing = URL.createObjectURL(new Blob(['self.onmessage = () => { throw new Error("boom"); };'], { type: 'text/javascript' }));
    const client = new EngineClient({
      source, model: MODEL, forceDevice: 'wasm',
      createWorker: () => (made++ === 0 ? new Worker(crashing) : new Worker(new URL('../../../src/engine/worker.ts', import.meta.url), { type: 'module' })),
    });
    const notices: string[] = [];
    client.addEventListener('notice', (e) => notices.push((e as CustomEvent<{ message: string }>).detail.message));
    const err = await client.load().catch((e: unknown) => e);
    expect((err as Error).name).toBe(WorkerCrashedError.errorName);
    expect(notices.join(' ')).toMatch(/crashed/);
    await client.load();
    expect(client.status.state).toBe('ready');
    const out = await client.generate(input([user('hello')], null));
    expect(out.stats.tokens).toBe(10);
    client.dispose();
  });
});
