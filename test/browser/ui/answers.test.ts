/**
 * Answers asked again (issue 23): Regenerate varies the answer and says how, Try again on a failed load
 * replaces the failure instead of piling up versions of it, and a Stop before the first word offers a retry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { REGENERATE_TEMPERATURE } from '../../../src/chat/sampling';
import { versionCount } from '../../../src/chat/versions';
import { $, $maybe, messageItems, mountApp, type Mounted, send, settled, text, waitFor } from './helpers';

let m: Mounted;
afterEach(async () => {
  await m?.dispose();
});

const answer = () => messageItems(m.root)[1]!;

describe('answers asked again', () => {
  it('Regenerate at temperature 0 samples with a fresh seed, shown in the answer’s details', async () => {
    m = await mountApp();
    await send(m.root, 'Question');
    await settled(m);
    expect(text($(answer(), '.details'))).not.toContain('seed');
    for (const count of ['2/2', '3/3']) {
      $(answer(), 'button.regenerate').click();
      await waitFor(() => text($maybe(answer(), '.versions .count')) === count, 5000, count);
      await settled(m, 2);
    }
    const [, r1, r2] = m.backend.requests.map((r) => r.settings);
    expect(r1).toMatchObject({ temperature: REGENERATE_TEMPERATURE, seed: expect.any(Number) });
    expect(r2!.seed).not.toBe(r1!.seed);
    expect(text($(answer(), '.details'))).toContain(`temperature ${REGENERATE_TEMPERATURE.toFixed(1)} · seed ${r2!.seed}`);
    // The settings say what Regenerate does, and a seed set there makes it repeat.
    m.settings.update({ seed: 1234 });
    $(answer(), 'button.regenerate').click();
    await waitFor(() => text($maybe(answer(), '.versions .count')) === '4/4', 5000, '4/4');
    await settled(m, 2);
    expect(m.backend.requests[3]!.settings).toMatchObject({ temperature: 0, seed: 1234 });
  });

  it('Try again on a failed load replaces the failure: no version of the same error', async () => {
    m = await mountApp();
    m.engine.failNextLoad = 'The download stopped: the network went away. Check your connection and try again.';
    await send(m.root, 'Will this work?');
    await waitFor(() => $maybe(answer(), 'error-banner button.retry'), 8000, 'the error');
    m.engine.failNextLoad = 'The download stopped again.';
    $(answer(), 'error-banner button.retry').click();
    await waitFor(() => text($maybe(answer(), 'error-banner', '.banner')).includes('stopped again'), 8000, 'the second error');
    expect(versionCount(answer().message!)).toBe(1);
    expect($maybe(answer(), '.versions')).toBeNull();
    $(answer(), 'error-banner button.retry').click();
    await waitFor(() => answer().message?.status === 'complete', 8000, 'the answer');
    expect(versionCount(answer().message!)).toBe(1);
  });

  it('Stop during the first download: no empty “partial answer”, and Regenerate is offered', async () => {
    m = await mountApp({ engine: { downloadMs: 4000 } });
    await send(m.root, 'Hello');
    const stop = await waitFor(() => $maybe<HTMLButtonElement>(m.root, 'chat-view', 'chat-composer', 'button.stop'), 5000, 'Stop');
    stop.click();
    await settled(m);
    expect(answer().message?.status).toBe('stopped');
    expect(text($(answer(), '.status.stopped'))).toBe('Stopped before the answer began');
    expect($maybe(answer(), 'button.copy-reply')).toBeNull();
    $(answer(), 'button.regenerate').click();
    await waitFor(() => answer().message?.status === 'complete', 15_000, 'the answer');
    expect(text($(answer(), '.md'))).toContain('Following up');
    expect(versionCount(answer().message!)).toBe(1); // the empty stop is not kept as a version
  });
});
