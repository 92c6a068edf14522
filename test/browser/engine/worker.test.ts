import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import { EngineClient } from '../../../src/engine/client';
import type { Device, GenerateInput } from '../../../src/engine/protocol';
import { WorkerCrashedError } from '../../../src/errors';
import { cutMidCharacter, firstCutInside, turnOn, typedControlTokens, wholeConversation } from '../../fixtures/cache-script';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const source = { kind: 'local' as const, localModelPath: '/.models/tiny/' };
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

async function conversation(device: Device) {
  const client = new EngineClient({ source, model: MODEL, forceDevice: device });
  const statuses: string[] = [];
  client.addEventListener('status', (e) => statuses.push((e as CustomEvent<{ state: string }>).detail.state));
  const img = await photo(1);
  const tokens: string[] = [];
  const t1 = await client.generate(input([user('What is this?', true)], img), { onToken: (t) => tokens.push(t) });
  const follow = [user('What is this?', true), assistant(t1.text), user('More?')];
  const t2 = await client.generate(input(follow, img));
  await client.reset();
  const recomputed = await client.generate(input(follow, img));
  client.dispose();
  return { t1, t2, recomputed, tokens, statuses };
}

/**
 * Cached answers equal fresh ones on the device's own files (WASM: q8; WebGPU on SwiftShader, which has no
 * shader-f16: fp32 vision/embeddings and the q4 decoder). The fresh engine is a second worker that is reset
 * before every turn.
 */
async function cachedEqualsFresh(device: Device) {
  const cached = new EngineClient({ source, model: MODEL, forceDevice: device });
  const fresh = new EngineClient({ source, model: MODEL, forceDevice: device });
  const freshRun = async (i: GenerateInput) => {
    await fresh.reset();
    return fresh.generate(i);
  };
  // WASM runs the q8 files, whose per-tensor activation quantization makes a chunked prefill differ from a
  // whole one (test/fixtures/cache-script.ts, PathOptions): there the prompts must match, not the answers.
  const turn = turnOn((i) => cached.generate(i), freshRun, { model: MODEL, exact: device === 'webgpu' });
  try {
    const [a, b] = [await photo(1), await photo(2)];
    await wholeConversation(turn, a, b);
    await cached.reset();
    await typedControlTokens(turn, a);
    await cached.reset();
    await cutMidCharacter(turn, () => firstCutInside(freshRun, MODEL));
  } finally {
    cached.dispose();
    fresh.dispose();
  }
}

describe('the engine worker in real Chromium', () => {
  it('WebGPU (SwiftShader): loads, streams, and a follow-up skips the vision encoder with the same answer', async () => {
    const probe = await new EngineClient({ prefer: 'webgpu' }).probe();
    expect(probe.device).toBe('webgpu');
    expect(probe.shaderF16).toBe(false);
    const { t1, t2, recomputed, tokens, statuses } = await conversation('webgpu');
    expect(t1.stats.device).toBe('webgpu');
    expect(t1.stats.visionRan).toBe(true);
    expect(tokens.join('').trim()).toBe(t1.text.trim());
    expect(t2.stats.visionRan).toBe(false);
    expect(t2.stats.cachedTokens).toBeGreaterThanOrEqual(t1.stats.promptTokens);
    expect(recomputed.stats.visionRan).toBe(true);
    expect(t2.text).toBe(recomputed.text);
    expect(statuses).toContain('loading');
    expect(statuses).toContain('ready');
    expect(statuses).toContain('generating');
  });

  it('WASM: the same conversation on WebAssembly', async () => {
    const { t1, t2, recomputed } = await conversation('wasm');
    expect(t1.stats.device).toBe('wasm');
    expect(t2.stats.visionRan).toBe(false);
    expect(t2.text).toBe(recomputed.text);
  });

  it('WASM (q8 files): a cached conversation feeds the same prompts as a fresh start (answers may differ: 8-bit activations)', async () => {
    await cachedEqualsFresh('wasm');
  });

  it('WebGPU on SwiftShader (fp32 + q4 files): cached answers equal fresh ones through a whole conversation', async () => {
    await cachedEqualsFresh('webgpu');
  }, 300_000);

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
