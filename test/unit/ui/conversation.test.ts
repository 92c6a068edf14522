import 'fake-indexeddb/auto';
import type { ReactiveControllerHost } from 'lit';
import { afterEach, describe, expect, it } from 'vitest';
import { textOf } from '../../../src/chat/messages';
import type { SessionStore } from '../../../src/storage/sessions';
import { ConversationController } from '../../../src/ui/controllers/conversation';
import { GenerationTracker } from '../../../src/ui/services/generation';
import { answerOf, countingStore, everyTokenSaved } from '../../fixtures/streaming-store';

/** The reads the conversation can make, counted; and the partial saves. */
const READS = ['get', 'require', 'messages', 'getImage'] as const;

const opened: SessionStore[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

/** Sends one message through the controller, answered in `words` tokens; resolves with the counts once it is shown. */
async function streamAnswer(words: number) {
  const { store, counts } = await countingStore('conversation', READS);
  opened.push(store);
  const chat = everyTokenSaved(store, words);
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
    expect(textOf(long.messages.at(-1)!)).toBe(answerOf(60));
    expect(long.messages.at(-1)!.status).toBe('complete');
    // The partial saves did reach the screen while it streamed.
    expect(long.shown.some((t) => t.length > 0 && t.split(' ').length < 60)).toBe(true);
  });
});
