/**
 * Memory given back, and faults of memory, in real Chromium with the real worker on WebAssembly (the tiny
 * model): the worker's WebAssembly heap is read after every turn and a worker far above its size at rest is
 * replaced between turns; a picture too big for the memory left is refused before decoding; a worker that
 * runs out of memory (a cap on its heap, as on a phone) is replaced and the next turn works.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import { ChatService, DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../../../src/chat/service';
import { LocalBackend } from '../../../src/engine/backend';
import { EngineClient, type EngineClientOptions } from '../../../src/engine/client';
import type { GenerateInput } from '../../../src/engine/protocol';
import { ImageTooBigForMemoryError, OutOfMemoryError } from '../../../src/errors';
import { SessionStore } from '../../../src/storage/sessions';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const MiB = 2 ** 20;
const source = { kind: 'local' as const, localModelPath: '/.models/tiny/' };
const settings: GenerationSettings = { ...DEFAULT_GENERATION, model: MODEL, maxNewTokens: 6, repetitionPenalty: 1, imageDetail: 'low' };
const user = (text: string, image = false): ChatMessage => ({ role: 'user', content: makeContent(text, image), timestamp: '' });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: makeContent(text, false), timestamp: '' });
const realWorker = () => new Worker(new URL('../../../src/engine/worker.ts', import.meta.url), { type: 'module' });

async function photo(width = 320, height = 240): Promise<{ blob: Blob; hash: string }> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  for (let i = 0; i < 12; i++) {
    ctx.fillStyle = `hsl(${(i * 37) % 360} 80% 50%)`;
    ctx.fillRect((i * 53) % width, (i * 31) % height, width / 4, height / 4);
  }
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return { blob, hash: await hashBlob(blob) };
}

/** A client on WebAssembly that counts the workers it made and keeps its notices. */
function client(opts: Partial<EngineClientOptions> & { worker?: () => Worker } = {}) {
  const made = { count: 0 };
  const notices: string[] = [];
  const engine = new EngineClient({
    source, model: MODEL, forceDevice: 'wasm', ...opts,
    createWorker: () => {
      made.count += 1;
      return (opts.worker ?? realWorker)();
    },
  });
  engine.addEventListener('notice', (e) => notices.push((e as CustomEvent<{ message: string }>).detail.message));
  return { engine, made, notices };
}

const input = (sessionId: string, messages: ChatMessage[], image: { blob: Blob; hash: string } | null, extra: Partial<GenerateInput> = {}): GenerateInput => ({
  sessionId, messages, image, settings, ...extra,
});

describe('the model worker’s memory (WASM, real worker)', () => {
  it('after a turn past the threshold the worker is replaced between turns, and the next turn answers without reading the picture again', async () => {
    // Threshold ×1 + 1 MiB: one low-detail picture (the heap grows from ~28 to ~70 MiB) passes it.
    const { engine, made, notices } = client({ memory: { factor: 1, floorBytes: MiB } });
    try {
      await engine.load();
      const rest = engine.memory!;
      expect(rest.steadyBytes).toBeGreaterThan(0);
      expect(rest.giveBackAboveBytes).toBe(rest.steadyBytes + MiB);
      const img = await photo();
      const first = [user('What is this?', true)];
      const t1 = await engine.generate(input('a', first, img));
      expect(t1.stats.visionRan).toBe(true);
      await expect.poll(() => engine.memory?.givenBack).toBe(1);
      await expect.poll(() => engine.status.state).toBe('ready');
      expect(made.count).toBe(2);
      const m = engine.memory!;
      expect(m.last!.fromBytes).toBeGreaterThan(rest.giveBackAboveBytes);
      expect(m.last!.toBytes).toBeLessThan(m.last!.fromBytes);
      expect(notices.join(' ')).toMatch(/gave that memory back/);

      // The next turn: the KV cache went with the worker (a re-prefill); the stored features are fed.
      const follow = [...first, assistant(t1.text), user('And the colours?')];
      const t2 = await engine.generate(input('a', follow, img, { features: [t1.features!] }));
      expect(t2.stats.tokens).toBe(settings.maxNewTokens);
      expect(t2.stats).toMatchObject({ visionRan: false, featuresReused: true, cachedTokens: 0 });
    } finally {
      engine.dispose();
    }
  }, 300_000);

  it('is never given back under a turn: a turn queued behind a big one answers', async () => {
    const { engine, made } = client({ memory: { factor: 1, floorBytes: MiB } });
    try {
      const img = await photo();
      const [a, b] = await Promise.all([
        engine.generate(input('a', [user('Picture?', true)], img)),
        engine.generate(input('b', [user('Just text')], null)),
      ]);
      expect([a.stats.tokens, b.stats.tokens]).toEqual([settings.maxNewTokens, settings.maxNewTokens]);
      // Given back once both were done (after the second turn, nothing else under way).
      await expect.poll(() => engine.memory?.givenBack).toBe(1);
      expect(made.count).toBe(2);
    } finally {
      engine.dispose();
    }
  }, 300_000);

  it('a picture too big for the memory left is refused before decoding with a named error, and the chat goes on', async () => {
    // A 64 MiB budget: the tiny model rests at ~28 MiB, one frame fits, 17 frames (high detail) do not.
    const engine = new EngineClient({ source, model: MODEL, forceDevice: 'wasm', memory: { budgetBytes: 64 * MiB } });
    const store = await SessionStore.open(`memory-${crypto.randomUUID()}`);
    let chatSettings: ChatSettings = { ...DEFAULT_CHAT_SETTINGS, generation: { ...settings, imageDetail: 'high' } };
    const chat = new ChatService({ store, backend: () => new LocalBackend(engine), settings: () => chatSettings, features: store, persistEveryMs: 0 });
    try {
      const { blob } = await photo(1024, 768);
      const err = await chat.chat({ message: 'Describe it', image: blob }).catch((e: unknown) => e);
      expect((err as Error).name).toBe(ImageTooBigForMemoryError.errorName);
      expect((err as Error).message).toMatch(/1024×768 picture at high detail \(13 frames\) needs about \d+ MiB.*“low” image detail/);
      expect(engine.status.state).toBe('ready'); // the worker was kept: nothing ran out
      const sessionId = (await store.list())[0]!.id;
      chatSettings = { ...chatSettings, generation: { ...settings, imageDetail: 'low' } };
      const again = await chat.regenerate(sessionId);
      expect(again.response.length).toBeGreaterThan(0);
      const next = await chat.chat({ message: 'And now?', session_id: sessionId });
      expect(next.response.length).toBeGreaterThan(0);
      const kept = await store.messages(sessionId);
      expect(kept.map((x) => x.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      expect(kept[0]!.imageHash).toBeTruthy();
    } finally {
      engine.dispose();
      store.close();
    }
  }, 300_000);

  it('a worker that runs out of memory during a turn is replaced, the turn fails with OutOfMemoryError, and the next turn works', async () => {
    // Every worker's heap capped at 96 MiB (a small device): the model (~28 MiB at rest) and text turns fit; a
    // 17-frame picture does not, even read a frame at a time: its 1,100-token prompt is prefilled in 256-token
    // chunks whose logits alone are 256 × 49,280 float32 (48 MiB), two alive at once in the output layer.
    const cap = 96 * MiB;
    const { engine, made, notices } = client({
      worker: () => new Worker(new URL('../../fixtures/capped-worker.ts', import.meta.url), { type: 'module', name: `cap=${cap}` }),
    });
    try {
      const t1 = await engine.generate(input('a', [user('hello')], null));
      expect(t1.stats.tokens).toBe(settings.maxNewTokens);
      const big = await photo(1024, 768);
      const err = await engine.generate(input('a', [user('What is this?', true)], big, { settings: { ...settings, imageDetail: 'high' } })).catch((e: unknown) => e);
      expect((err as Error).name).toBe(OutOfMemoryError.errorName);
      expect((err as Error).message).toMatch(/ran out of memory/);
      expect(notices.join(' ')).toMatch(/ran out of memory.*reload/);
      const t3 = await engine.generate(input('a', [user('hello again')], null));
      expect(t3.stats.tokens).toBe(settings.maxNewTokens);
      expect(made.count).toBe(2);
    } finally {
      engine.dispose();
    }
  }, 300_000);

  it('a worker that dies of memory once a turn has started fails it with OutOfMemoryError, never a hang, and the next turn works', async () => {
    const { engine, made } = client({ worker: () => new Worker(new URL('../../fixtures/crash-worker.ts', import.meta.url), { type: 'module' }) });
    try {
      await engine.load();
      const err = await engine.generate(input('a', [user('CRASH, please')], null)).catch((e: unknown) => e);
      expect((err as Error).name).toBe(OutOfMemoryError.errorName);
      expect((err as Error).message).toMatch(/ran out of memory and its worker stopped \(WebAssembly\.Memory\.grow\(\): Maximum memory size exceeded\)/);
      const next = await engine.generate(input('a', [user('hello')], null));
      expect(next.stats.tokens).toBe(settings.maxNewTokens);
      expect(made.count).toBe(2);
    } finally {
      engine.dispose();
    }
  }, 300_000);
});
