import { describe, expect, it } from 'vitest';
import { EngineClient } from '../../../src/engine/client';
import { classifyEngineError } from '../../../src/engine/errors';
import type { EngineRequest, EngineResponse } from '../../../src/engine/protocol';
import { VlmEngine } from '../../../src/engine/engine';
import { ModelFilesMissingError, ModelHostUnreachableError, serializeError, type GlimpseError } from '../../../src/errors';
import { startHubServer } from '../../fixtures/hub-server';
import { ensureTinyModel, MODEL_ID } from '../../fixtures/model/ensure';

/**
 * A worker that fails every load with what transformers.js threw (as the real handler would report it);
 * `onRequest` hears each request it gets.
 */
function failingWorker(thrown: string, onRequest: (req: EngineRequest) => void = () => undefined): () => Worker {
  return () => {
    const w = {
      onmessage: null as ((e: MessageEvent<EngineResponse>) => void) | null,
      onerror: null,
      onmessageerror: null,
      terminate() {},
      postMessage(req: EngineRequest) {
        onRequest(req);
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

describe('a model host without the file (a real 404 from a hub-layout server, real transformers.js)', () => {
  it('names the missing file and the host, not the connection', async () => {
    const root = await ensureTinyModel();
    const hub = await startHubServer(root);
    const engine = new VlmEngine();
    try {
      // bnb4 is a dtype the tiny model does not have: its decoder file is a 404 on this host.
      const err = await engine
        .load({
          model: MODEL_ID,
          device: 'cpu',
          dtypes: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'bnb4' },
          source: { kind: 'hub', remoteHost: hub.url, remotePathTemplate: '{model}/resolve/{revision}/' },
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelFilesMissingError);
      const host = new URL(hub.url).host;
      expect((err as GlimpseError).data).toMatchObject({ status: 404, host, file: 'onnx/decoder_model_merged_bnb4.onnx' });
      expect((err as Error).message).toMatch(new RegExp(`^${host.replace(/\./g, '\\.')} has no file “onnx/decoder_model_merged_bnb4\\.onnx” for “${MODEL_ID}” \\(404 Not Found\\)`));
      expect((err as Error).message).not.toMatch(/connection/i);
      expect(hub.requests.some((r) => r.status === 404 && r.path.endsWith('decoder_model_merged_bnb4.onnx'))).toBe(true);
    } finally {
      await engine.unload().catch(() => undefined);
      await hub.close();
    }
  });
});

describe('another model host, set while the page runs (issue 23)', () => {
  it('the next load asks the new host, and the old host’s failure is cleared at once', async () => {
    const sources: unknown[] = [];
    const createWorker = failingWorker('Failed to fetch', (req) => {
      if (req.type === 'load') sources.push(req.source);
    });
    const client = new EngineClient({ source: { kind: 'hub' }, model: 'm', forceDevice: 'wasm', createWorker });
    expect(((await client.load().catch((e: unknown) => e)) as GlimpseError).name).toBe(ModelHostUnreachableError.errorName);
    expect(client.status.state).toBe('error');
    const mirror = { kind: 'hub' as const, remoteHost: 'http://127.0.0.1:9/models/', remotePathTemplate: '{model}/resolve/{revision}/' };
    await client.configure({ source: mirror });
    expect(client.status.state).toBe('idle');
    const err = (await client.load().catch((e: unknown) => e)) as GlimpseError;
    expect(sources).toEqual([{ kind: 'hub' }, mirror]);
    expect(err.data.host).toBe('127.0.0.1:9'); // the failure names the host now asked
  });
});
