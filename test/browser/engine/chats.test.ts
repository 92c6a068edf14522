/**
 * Long and many chats in real Chromium, through the app's own pieces: ChatService over real IndexedDB and
 * the engine worker on WebAssembly (the tiny model). The engine's own stats, stored with each reply, say
 * what was computed.
 */
import { describe, expect, it } from 'vitest';
import type { ReplyDetails } from '../../../src/chat/messages';
import { ChatService, DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../../../src/chat/service';
import { LocalBackend } from '../../../src/engine/backend';
import { EngineClient } from '../../../src/engine/client';
import { SessionStore } from '../../../src/storage/sessions';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const settings: ChatSettings = {
  ...DEFAULT_CHAT_SETTINGS,
  generation: { ...DEFAULT_CHAT_SETTINGS.generation, model: MODEL, maxNewTokens: 4, repetitionPenalty: 1, imageDetail: 'low' },
};

async function photo(seed: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(320, 240);
  const ctx = canvas.getContext('2d')!;
  for (let i = 0; i < 10; i++) {
    ctx.fillStyle = `hsl(${(i * 41 + seed * 67) % 360} 70% 50%)`;
    ctx.fillRect((i * 47) % 320, (i * 29 + seed * 11) % 240, 90, 70);
  }
  return canvas.convertToBlob({ type: 'image/png' });
}

async function setUp() {
  const store = await SessionStore.open(`chats-${crypto.randomUUID()}`);
  const engine = new EngineClient({ source: { kind: 'local', localModelPath: '/.models/tiny/' }, model: MODEL, forceDevice: 'wasm' });
  const chat = new ChatService({ store, backend: () => new LocalBackend(engine), settings: () => settings, features: store, persistEveryMs: 0 });
  const lastDetails = async (sessionId: string): Promise<Partial<ReplyDetails>> =>
    (await store.messages(sessionId)).filter((m) => m.role === 'assistant').at(-1)?.details ?? {};
  return { store, engine, chat, lastDetails };
}

describe('long and many chats (ChatService + IndexedDB + the WASM worker)', () => {
  it('a chat past the 20-message window still extends the cache between window steps', async () => {
    const { store, engine, chat, lastDetails } = await setUp();
    try {
      const first = await chat.chat({ message: 'What is in this picture?', image: await photo(1) });
      const id = first.session_id;
      for (let k = 1; k < 13; k++) await chat.chat({ message: `Question ${k}?`, session_id: id });
      // 26 messages: the window slid once (at 21), to message 10; the 13th answer came from the cache.
      expect((await chat.context(id)).windowStartSeq).toBe(10);
      const d = await lastDetails(id);
      expect(d).toMatchObject({ visionRan: false });
      expect(d.cachedTokens).toBeGreaterThan(0.8 * (d.promptTokens ?? 0));
    } finally {
      engine.dispose();
      store.close();
    }
  }, 600_000);

  it('going back to a chat resumes its cache; features that were corrupted in storage are recomputed', async () => {
    const { store, engine, chat, lastDetails } = await setUp();
    try {
      const a = await chat.chat({ message: 'Chat A: describe it', image: await photo(2) });
      const b = await chat.chat({ message: 'Chat B: and this one?', image: await photo(3) });
      await chat.chat({ message: 'Back to A: colours?', session_id: a.session_id });
      const resumed = await lastDetails(a.session_id);
      expect(resumed).toMatchObject({ visionRan: false });
      expect(resumed.cachedTokens).toBeGreaterThan(64);

      // A reload (a fresh worker) with B's stored features damaged: ignored, the encoder runs again.
      const hash = (await store.messages(b.session_id))[0]!.imageHash!;
      const record = (await store.getImage(hash))!;
      expect(record.features?.length).toBe(1);
      await store.keepFeatures(hash, { ...record.features![0]!, data: record.features![0]!.data.slice(0, 100) });
      await engine.reset();
      engine.dispose();
      await chat.chat({ message: 'Back to B after a reload', session_id: b.session_id });
      expect(await lastDetails(b.session_id)).toMatchObject({ visionRan: true });
      // …and the recomputed features replaced the damaged ones: the next fresh start reuses them.
      await engine.reset();
      engine.dispose();
      await chat.chat({ message: 'Once more', session_id: b.session_id });
      expect(await lastDetails(b.session_id)).toMatchObject({ visionRan: false, featuresReused: true });
    } finally {
      engine.dispose();
      store.close();
    }
  }, 600_000);
});
