/**
 * A long chat in Node, through the chat service, the IndexedDB store (fake-indexeddb) and the engine on the
 * tiny model: past the 20-message window, turns between two window steps extend the KV cache (the engine's
 * own stats, stored with each reply), and the turn that moves the window keeps the picture's tokens.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ChatService, DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../../../src/chat/service';
import { NodeBackend } from '../../../src/server/backend';
import { SessionStore } from '../../../src/storage/sessions';
import { loadTinyEngine } from '../../fixtures/engine';
import { makeImage } from '../../fixtures/images';
import { ensureTinyModel, MODEL_ID } from '../../fixtures/model/ensure';

const settings: ChatSettings = {
  ...DEFAULT_CHAT_SETTINGS,
  generation: { ...DEFAULT_CHAT_SETTINGS.generation, model: MODEL_ID, maxNewTokens: 4, repetitionPenalty: 1, imageDetail: 'low' },
};

describe('a long chat past the window', () => {
  it('extends the cache between window steps and never re-reads the picture', async () => {
    const store = await SessionStore.open(`long-${Math.random()}`);
    const engine = await loadTinyEngine();
    const backend = new NodeBackend({ model: MODEL_ID, source: { kind: 'local', localModelPath: await ensureTinyModel() }, engine });
    const chat = new ChatService({ store, backend: () => backend, settings: () => settings, features: store, persistEveryMs: 0 });
    const first = await chat.chat({ message: 'What is in this picture?', image: await makeImage('png', 320, 240, 9) });
    const id = first.session_id;
    const starts: (number | null)[] = [];
    for (let k = 1; k < 13; k++) {
      await chat.chat({ message: `Question ${k}?`, session_id: id });
      starts.push((await chat.context(id)).windowStartSeq);
    }
    const replies = (await store.messages(id)).filter((m) => m.role === 'assistant').map((m) => m.details!);
    // Turn 11 is the 21st message: the window moves once, to message 10 (a step of 10).
    expect(starts).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 10, 10]);
    for (const [i, d] of replies.entries()) {
      expect(d.visionRan, `turn ${i + 1}`).toBe(i === 0);
      // Every turn but the first and the one that moved the window fed only what was new.
      if (i > 0 && i !== 10) expect(d.cachedTokens, `turn ${i + 1}`).toBeGreaterThan(0.8 * d.promptTokens!);
    }
    // The turn that moved the window kept the picture too: it stays at the start of the prompt (now on the
    // first message left), so its cached tokens are still a prefix of the new prompt.
    expect(replies[10]).toMatchObject({ visionRan: false });
    expect(replies[10]!.cachedTokens).toBeGreaterThan(64);
    await engine.unload();
    store.close();
  });
});
