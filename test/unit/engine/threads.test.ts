import { describe, expect, it } from 'vitest';
import { threadsAsked, wasmThreads } from '../../../src/engine/threads';

describe('wasmThreads', () => {
  it('is 1 when the page is not cross-origin isolated, whatever the cores or the ask', () => {
    expect(wasmThreads({ isolated: false, cores: 16 })).toBe(1);
    expect(wasmThreads({ isolated: false, cores: 16, asked: 4 })).toBe(1);
  });

  it('isolated: 2 on 2 to 4 cores, half the cores above, at most 4; 1 on one core', () => {
    expect([1, 2, 3, 4, 6, 8, 16, 64].map((cores) => wasmThreads({ isolated: true, cores }))).toEqual([1, 2, 2, 2, 3, 4, 4, 4]);
    expect(wasmThreads({ isolated: true, cores: Number.NaN })).toBe(1);
  });

  it('honours a whole positive ask when isolated', () => {
    expect(wasmThreads({ isolated: true, cores: 2, asked: 1 })).toBe(1);
    expect(wasmThreads({ isolated: true, cores: 2, asked: 3 })).toBe(3);
    expect(wasmThreads({ isolated: true, cores: 8, asked: 0 })).toBe(4);
  });
});

describe('threadsAsked', () => {
  it('reads threads=N from a worker name', () => {
    expect(threadsAsked('threads=1')).toBe(1);
    expect(threadsAsked('glimpse-engine threads=3')).toBe(3);
    expect(threadsAsked('')).toBeUndefined();
    expect(threadsAsked('threads=x')).toBeUndefined();
  });
});
