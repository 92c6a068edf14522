import { describe, expect, it } from 'vitest';
import { EngineClient } from '../../../src/engine/client';
import { classifyEngineError } from '../../../src/engine/errors';
import type { EngineRequest, EngineResponse } from '../../../src/engine/protocol';
import { ModelFilesMissingError, ModelHostUnreachableError, serializeError, type GlimpseError } from '../../../src/errors';

/** A worker that fails every load with what transformers.js threw (as the real handler would report it). */
function failingWorker(thrown: string): () => Worker {
  return () => {
    const w = {
      onmessage: null as ((e: MessageEvent<EngineResponse>) => void) | null,
      onerror: null,
      onmessageerror: null,
      terminate() {},
      postMessage(req: EngineRequest) {
        const error = serializeError(classifyEngineError(new TypeError(thrown), { model: 'm', phase: 'load' }));
        queueMicrotask(() => w.onmessage?.({ data: { id: req.id, type: 'error', error } } as MessageEvent<EngineResponse>));
      },
    };
    return w as unknown as Worker;
  };
}

const load = async (thrown: string) => {
  const client = new EngineClient({ source: { kind: 'hub' }, model: 'm', forceDevice: 'wasm', createWorker: failingWorker(thrown) });
  return (await client.load().catch((e: unknown) => e)) as GlimpseError;
};

describe('a model download that fails', () => {
  it('a host that cannot be connected to is named (not “files missing”)', async () => {
    for (const thrown of ['Failed to fetch', 'NetworkError when attempting to fetch resource.', 'Load failed']) {
      const err = await load(thrown);
      expect(err.name).toBe(ModelHostUnreachableError.errorName);
      expect(err.data).toMatchObject({ host: 'huggingface.co', detail: thrown });
      expect(err.message).toMatch(/^huggingface\.co does not answer/);
    }
  });

  it('a download cut half-way (“network error” reading the body) reached the host: files missing, retry keeps what arrived', async () => {
    expect(classifyEngineError(new TypeError('network error'), { model: 'm', phase: 'load' }).name).toBe(ModelFilesMissingError.errorName);
    const err = await load('network error');
    expect(err.name).toBe(ModelFilesMissingError.errorName);
    expect(err.message).toMatch(/could not be downloaded/);
  });
});
