import { describe, expect, it } from 'vitest';
import { crashError } from '../../../src/engine/memory-watch';
import { OutOfMemoryError, WorkerCrashedError, isError } from '../../../src/errors';

describe('what a dead worker’s ErrorEvent says', () => {
  it('out of memory when the uncaught error was one (a heap that cannot grow, a buffer that cannot be allocated)', () => {
    for (const detail of [
      'Uncaught RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded',
      'Uncaught RangeError: Array buffer allocation failed',
      'Uncaught Error: failed to call OrtRun(). ERROR_CODE: 6, ERROR_MESSAGE: std::bad_alloc',
    ]) {
      const err = crashError(detail);
      expect(isError(err, OutOfMemoryError), detail).toBe(true);
      expect(err.message).toMatch(/ran out of memory and its worker stopped .* restart for your next message/);
    }
  });

  it('a crash otherwise, with what the worker said', () => {
    for (const detail of ['Uncaught Error: boom', 'Uncaught RangeError: Invalid array length', '']) {
      const err = crashError(detail);
      expect(isError(err, WorkerCrashedError), detail).toBe(true);
      expect(err.message).toMatch(/^The model's worker crashed: .+\. It will restart for your next message\.$/);
    }
  });
});
