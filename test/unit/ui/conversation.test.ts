import 'fake-indexeddb/auto';
import type { ReactiveControllerHost } from 'lit';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendRequest, BackendResult, ChatBackend } from '../../../src/chat/backend';
import { textOf } from '../../../src/chat/messages';
import { ChatService, DEFAULT_CHAT_SETTINGS } from '../../../src/chat/service';
import { SessionStore } from '../../../src/storage/sessions';
import { ConversationController } from '../../../src/ui/controllers/conversation';
import { GenerationTracker } from '../../../src/ui/services/generation';

/** Streams `words` tokens, yielding to the event loop between them (so each partial save lands and is announced). */
class WordsBackend implements ChatBackend {
  readonly id = 'words';
  readonly acceptsImages = true;
  constructor(private readonly words: number) {}

  async generate(req: BackendRequest): Promise<BackendResult> {
    let full = '';
    for (let i = 0; i < this.words; i++) {
      await new Promise((r) => setImmediate(r));
      full += `${i ? ' ' : ''}w${i}`;
      req.onToken?.({ text: `w${i}`, full, tokens: i + 1 });
    }
    return { text: full, model: 'words-model' };
  }
}

const READS = ['get', 'require', 'messages', 'getImage'] as const;

/** A store whose reads are counted, and its partial saves (`update`). */
async function countingStore() {
  const store = await SessionStore.open(`conversation-${Math.random()}`);
  const counts = { reads: 0, updates: 0 };
  for (const name of READS) {
    const original = store[name].bind(store) as (...args: unknown[]) => Promise<unknown>;
    (store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      counts.reads++;
      return original(...args);
    };
  }
  const update = store.update.bind(store);
  store.update = (m) => {
    counts.updates++;
    return update(m);
  };
  return { store, counts };
}

const opened: SessionStore[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

/** Sends one message through the controller, answered in `words` tokens; resolves with the counts once it is shown. */
async function streamAnswer(words: number) {
  const { store, counts } = await countingStore();
  opened.push(store);
  const chat = new ChatService({
    store,
    backend: () => new WordsBackend(words),
    settings: () => DEFAULT_CHAT_SETTINGS,
    persistEveryMs: 0, // every token is saved: the most change events a stream can cause
  });
  const shown: string[] = [];
  const host: ReactiveControllerHost = {
    addController: () => undefined,
    removeController: () => undefined,
    requestUpdate: () => {
      const last = controller.messages.at(-1);
      if (last?.role === 'assistant') shown.push(textOf(last));
    },
    updateComplete: Promise.resolve(true),
  };
  let finished!: (text: string) => void;
  const done = new Promise<string>((r) => (finished = r));
  const controller = new ConversationController(host, {
    chat: () => chat,
    generation: () => generation,
    onCreated: () => undefined,
    onFinished: (text) => finished(text),
  });
  const generation = new GenerationTracker();
  controller.hostConnected();
  expect(await controller.send('Hello', null)).toBe(true);
  await done;
  controller.hostDisconnected();
  return { counts, shown, messages: controller.messages };
}

describe('ConversationController while an answer streams', () => {
  it('reads the store a fixed number of times however many partial saves the answer makes', async () => {
    const short = await streamAnswer(5);
    const long = await streamAnswer(60);
    // Each token was saved: the long answer made 55 more partial saves than the short one.
    expect(long.counts.updates - short.counts.updates).toBeGreaterThanOrEqual(55);
    // …and cost no more reads: a changed message replaces that message; only a structural change re-reads.
    expect(long.counts.reads).toBe(short.counts.reads);
    expect(textOf(long.messages.at(-1)!)).toBe(Array.from({ length: 60 }, (_, i) => `w${i}`).join(' '));
    expect(long.messages.at(-1)!.status).toBe('complete');
    // The partial saves did reach the screen while it streamed.
    expect(long.shown.some((t) => t.length > 0 && t.split(' ').length < 60)).toBe(true);
  });
});
