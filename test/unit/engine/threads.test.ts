import { describe, expect, it } from 'vitest';
import { wasmThreads } from '../../../src/engine/threads';

describe('wasmThreads', () => {
  it('is 1 when the page is not cross-origin isolated, whatever the cores or the ask', () => {
    expect(wasmThreads({ isolated: false, cores: 16 })).toBe(1);
    expect(wasmThreads({ isolated: false, cores: 16, asked: 4 })).toBe(1);
  });

  it('isolated: half the logical cores, at most 4 (1 on 2 cores)', () => {
    expect([1, 2, 3, 4, 6, 8, 16, 64].map((cores) => wasmThreads({ isolated: true, cores }))).toEqual([1, 1, 2, 2, 3, 4, 4, 4]);
    expect(wasmThreads({ isolated: true, cores: Number.NaN })).toBe(1);
  });

  it('honours a whole positive ask when isolated (at most 16); ignores any other', () => {
    expect(wasmThreads({ isolated: true, cores: 2, asked: 2 })).toBe(2);
    expect(wasmThreads({ isolated: true, cores: 16, asked: 1 })).toBe(1);
    expect(wasmThreads({ isolated: true, cores: 2, asked: 99 })).toBe(16);
    expect([0, -1, 1.5, Number.NaN].map((asked) => wasmThreads({ isolated: true, cores: 8, asked }))).toEqual([4, 4, 4, 4]);
  });
});
