/**
 * Continue on the page (issue 23 #2): an answer the token limit cut says so, and Continue grows that same
 * answer where it stopped (streamed in place, no new turn); once the model ends it, no Continue. A backend
 * that cannot go on (the remote model) still marks the cut, without the button. The engine's own Continue
 * (the KV cache kept whole) is tested on the real model in test/unit/engine/continue.test.ts and, in the built
 * app, in test/e2e/engine-real.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { textOf } from '../../../src/chat/messages';
import { $, $maybe, messageItems, mountApp, type Mounted, send, settled, text, waitFor } from './helpers';

let m: Mounted;
afterEach(async () => {
  await m?.dispose();
});

const answer = () => messageItems(m.root)[1]!;

describe('an answer cut at the token limit', () => {
  it('is marked, and Continue grows the same answer until the model ends it', async () => {
    m = await mountApp();
    m.settings.update({ maxNewTokens: 16 });
    await send(m.root, 'Describe it at length');
    await settled(m);
    expect(text($(answer(), '.status.cut-off'))).toBe('Cut off at 16 tokens');
    const cut = textOf(answer().message!);
    const id = answer().message!.id;

    $(answer(), 'button.continue').click();
    // It streams into the same message: the text so far stays on screen, the new words after it.
    await waitFor(() => answer().message?.status === 'streaming', 5000, 'Continue to start');
    expect($maybe(answer(), 'button.continue')).toBeNull();
    await settled(m);
    expect(messageItems(m.root)).toHaveLength(2);
    expect(answer().message!.id).toBe(id);
    expect(textOf(answer().message!).startsWith(cut)).toBe(true);
    expect(text($(answer(), '.status.cut-off'))).toBe('Cut off at 32 tokens');
    expect(m.backend.requests.at(-1)).toMatchObject({ continueAnswer: true });
    expect(textOf(m.backend.requests.at(-1)!.messages.at(-1)!)).toBe(cut);

    // On until the canned answer ends: then it is whole, not cut, and nothing is offered to continue.
    for (let i = 0; i < 10 && $maybe(answer(), 'button.continue'); i++) {
      $(answer(), 'button.continue').click();
      await waitFor(() => answer().message?.status === 'streaming', 5000, 'Continue to start');
      await settled(m);
    }
    expect($maybe(answer(), '.status.cut-off')).toBeNull();
    expect($maybe(answer(), 'button.continue')).toBeNull();
    expect(textOf(answer().message!)).toContain('Ask me anything else about it.');
    expect(answer().message!.details).toMatchObject({ finishReason: 'stop' });
    expect(answer().message!.versions).toBeUndefined();
  });

  it('Stop during Continue keeps what it had plus what came, and offers Continue again', async () => {
    m = await mountApp({ tokenDelayMs: 40 });
    m.settings.update({ maxNewTokens: 16 });
    await send(m.root, 'Tell me more');
    await settled(m);
    const cut = textOf(answer().message!);
    $(answer(), 'button.continue').click();
    await waitFor(() => (m.root.services!.generation.live?.text.length ?? 0) > cut.length + 3, 5000, 'new words');
    $(m.root, 'chat-view', 'chat-composer', 'button.stop').click();
    await settled(m);
    expect(answer().message!.status).toBe('stopped');
    expect(textOf(answer().message!).startsWith(cut)).toBe(true);
    expect(textOf(answer().message!).length).toBeGreaterThan(cut.length);
    expect($maybe(answer(), 'button.continue')).not.toBeNull();
  });

  it('with a backend that cannot go on, the cut is marked and no Continue is offered', async () => {
    m = await mountApp();
    m.settings.update({ maxNewTokens: 16 });
    await send(m.root, 'Question');
    await settled(m);
    expect($maybe(answer(), 'button.continue')).not.toBeNull();
    m.settings.update({ backend: 'remote', proxyUrl: 'http://127.0.0.1:9' });
    await waitFor(() => !$maybe(answer(), 'button.continue'), 5000, 'Continue to go');
    const mark = $(answer(), '.status.cut-off');
    expect(text(mark)).toBe('Cut off at 16 tokens');
    expect(mark.title).toMatch(/cannot go on from here/);
  });
});
