/**
 * Engine faults and odd images with the real parts: the real engine worker running the generated tiny
 * SmolVLM (WASM, so it does not depend on SwiftShader's shader compile times), the real chat service and a
 * real IndexedDB store in Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION } from '../../../src/chat/backend';
import { ChatService } from '../../../src/chat/service';
import { LocalBackend } from '../../../src/engine/backend';
import { EngineClient } from '../../../src/engine/client';
import type { EngineNotice } from '../../../src/engine/api';
import type { EngineStatus } from '../../../src/engine/protocol';
import { DeviceLostError, ImageUnreadableError, isError, serializeError } from '../../../src/errors';
import { SessionStore } from '../../../src/storage/sessions';
import { animatedGif, jpegBlob } from './files';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const source = { kind: 'local' as const, localModelPath: '/.models/tiny/' };
const realWorker = () => new Worker(new URL('../../../src/engine/worker.ts', import.meta.url), { type: 'module' });

/**
 * A worker that behaves like the engine until the answer has started, then reports the GPU device as lost
 * (what the real worker posts when WebGPU's device goes away mid-answer: DeviceLostError, see errors.ts).
 */
const DEVICE_LOST_WORKER = `
  self.onmessage = (e) => {
    const req = e.data;
    if (req.type === 'load') {
      self.postMessage({ id: req.id, type: 'done', call: req.type, result: { model: req.model, device: req.device, dtypes: req.dtypes, loadMs: 1 } });
    } else if (req.type === 'generate') {
      let n = 0;
      for (const t of ['The', ' picture', ' shows']) self.postMessage({ id: req.id, type: 'token', text: t, tokens: ++n });
      setTimeout(() => self.postMessage({ id: req.id, type: 'error', error: ${JSON.stringify(
        serializeError(new DeviceLostError('The graphics device stopped responding (the GPU driver reset or the tab used too much GPU memory). Glimpse restarted the model; send your message again.')),
      )} }), 20);
    } else {
      self.postMessage({ id: req.id, type: 'done', call: req.type, result: { ok: true } });
    }
  };`;

let store: SessionStore;
beforeAll(async () => {
  store = await SessionStore.open(`glimpse-hardening-engine-${Date.now()}`);
});
afterAll(() => store.close());

function setup(createWorker: () => Worker) {
  const engine = new EngineClient({ source, model: MODEL, forceDevice: 'wasm', createWorker });
  const notices: EngineNotice[] = [];
  const states: EngineStatus['state'][] = [];
  engine.addEventListener('notice', (e) => notices.push((e as CustomEvent<EngineNotice>).detail));
  engine.addEventListener('status', (e) => states.push((e as CustomEvent<EngineStatus>).detail.state));
  const backend = new LocalBackend(engine);
  const chat = new ChatService({
    store,
    backend: () => backend,
    settings: () => ({
      windowSize: 20,
      maxMessageChars: 8000,
      imageLimits: { maxBytes: 20 * 1024 * 1024, maxSide: 12_000, maxPixels: 50_000_000 },
      generation: { ...DEFAULT_GENERATION, model: MODEL, maxNewTokens: 8, repetitionPenalty: 1, imageDetail: 'low' },
    }),
    decodeCheck: async (blob) => (await createImageBitmap(blob)).close(),
    persistEveryMs: 0,
  });
  return { engine, chat, notices, states };
}

describe('the GPU device lost mid-answer', () => {
  it('keeps the partial answer marked as failed, tells the user, restarts the worker, and the next question works', async () => {
    const made: string[] = [];
    const { engine, chat, notices, states } = setup(() => {
      if (made.push(made.length === 0 ? 'device-lost' : 'real') === 1) {
        const url = URL.createObjectURL(new Blob([DEVICE_LOST_WORKER], { type: 'text/javascript' }));
        return new Worker(url);
      }
      return realWorker();
    });
    const err = await chat.chat({ message: 'What is in the picture?' }).catch((e: unknown) => e);
    expect(isError(err, DeviceLostError)).toBe(true);

    const [session] = await store.list();
    const saved = await store.messages(session!.id);
    expect(saved.map((x) => `${x.role}:${x.status}`)).toEqual(['user:complete', 'assistant:error']);
    expect(saved[1]!.content).toEqual([{ type: 'text', text: 'The picture shows' }]);
    expect(saved[1]!.error?.name).toBe('DeviceLostError');
    // Told, in words: what happened and what happens next.
    expect(notices.map((n) => n.message).join(' ')).toMatch(/graphics device stopped responding.*reload on WebAssembly for your next message/);
    expect(states).toContain('restarting');

    // The next question gets a fresh (real) worker and an answer.
    const res = await chat.chat({ message: 'Try again, please', session_id: session!.id });
    expect(made).toEqual(['device-lost', 'real']);
    expect(res.response.length).toBeGreaterThan(0);
    expect(engine.status.state).toBe('ready');
    const after = await store.messages(session!.id);
    expect(after.map((x) => x.status)).toEqual(['complete', 'error', 'complete', 'complete']);
    engine.dispose();
  });
});

describe('odd images through the real engine', () => {
  let ctx: ReturnType<typeof setup>;
  beforeAll(() => {
    ctx = setup(realWorker);
  });
  afterAll(() => ctx.engine.dispose());

  it('an animated GIF: the model reads its first frame (same answer as that frame alone)', async () => {
    const red: [number, number, number] = [220, 40, 40];
    const blue: [number, number, number] = [40, 40, 220];
    const animated = await ctx.chat.chat({ message: 'What colour?', image: animatedGif(64, 64, [red, blue]) });
    const firstOnly = await ctx.chat.chat({ message: 'What colour?', image: animatedGif(64, 64, [red]) });
    const secondOnly = await ctx.chat.chat({ message: 'What colour?', image: animatedGif(64, 64, [blue]) });
    expect(animated.has_image).toBe(true);
    expect(animated.response).toBe(firstOnly.response);
    // The comparison can fail: the other frame gives another answer.
    expect(secondOnly.response).not.toBe(firstOnly.response);
  });

  it('a JPEG cut off in its image data is refused by name before anything is saved; the engine stays usable', async () => {
    const jpeg = await jpegBlob(320, 240);
    const cut = new Blob([jpeg.slice(0, Math.floor(jpeg.size * 0.6))], { type: 'image/jpeg' });
    const before = (await store.list()).length;
    // Its header is intact (the inspector passes it); decoding it is what fails.
    const err = await ctx.chat.chat({ message: 'Describe it', image: cut }).catch((e: unknown) => e);
    expect(isError(err, ImageUnreadableError)).toBe(true);
    expect((err as Error).message).toMatch(/damaged or cut short/);
    expect((await store.list()).length).toBe(before);
    const next = await ctx.chat.chat({ message: 'And now without a picture?' });
    expect(next.response.length).toBeGreaterThan(0);
  });
});
