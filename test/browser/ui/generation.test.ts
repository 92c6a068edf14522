/**
 * The live answer's updates reach the page at most once per animation frame: a fast model (the tiny test
 * model writes hundreds of tokens a second; a real GPU can too) would otherwise re-render the whole answer's
 * markdown for every token, O(n²) over an answer, and keep the main thread from handling Stop.
 */
import { describe, expect, it } from 'vitest';
import { GenerationTracker } from '../../../src/ui/services/generation';

const task = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('the live answer', () => {
  it('tells the page of new tokens once per frame, with the latest text, and of its end at once', async () => {
    const tracker = new GenerationTracker();
    let changes = 0;
    tracker.addEventListener('change', () => changes++);
    tracker.start('s');
    tracker.saved('s', 'm');
    let frames = 0;
    let counting = true;
    const count = () => {
      frames++;
      if (counting) requestAnimationFrame(count);
    };
    requestAnimationFrame(count);
    changes = 0;
    let full = '';
    for (let i = 1; i <= 200; i++) {
      full += ` w${i}`;
      tracker.token(full, i); // each token in a task of its own, as worker messages arrive
      expect(tracker.live?.text).toBe(full); // read at any time, the text is the latest
      if (i % 4 === 0) await task();
    }
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    counting = false;
    expect(changes).toBeGreaterThan(0);
    expect(changes).toBeLessThanOrEqual(frames + 1);
    expect(changes).toBeLessThan(200);
    const before = changes;
    tracker.finish();
    expect(changes).toBe(before + 1); // the end is told at once
    expect(tracker.live).toBeNull();
  });
});
