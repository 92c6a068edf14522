/**
 * The page's end of the worker protocol (WorkerChannel) against the real handler, in-process: every message
 * structured-cloned both ways as postMessage would, the engine the real one on the tiny model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WorkerChannel } from '../../../src/engine/channel';
import { createHandler } from '../../../src/engine/handler';
import type { EngineRequest, EngineResponse, LoadProgress } from '../../../src/engine/protocol';
import { EngineError, WorkerCrashedError } from '../../../src/errors';
import { ensureTinyModel, MODEL_ID } from '../../fixtures/model/ensure';

interface FakeWorker {
  onmessage: ((e: { data: EngineResponse }) => void) | null;
  onerror: unknown;
  onmessageerror: unknown;
  terminated: boolean;
  postMessage(req: EngineRequest): void;
  terminate(): void;
}

/** A Worker whose other side is `answer` (the real handler unless a test says otherwise). */
function pipe(answer?: (req: EngineRequest, reply: (m: EngineResponse) => void) => void) {
  const workers: FakeWorker[] = [];
  const create = () => {
    const w: FakeWorker = {
      onmessage: null,
      onerror: null,
      onmessageerror: null,
      terminated: false,
      postMessage: (req) => void handle(structuredClone(req)),
      terminate: () => void (w.terminated = true),
    };
    const reply = (m: EngineResponse) => {
      if (!w.terminated) w.onmessage?.({ data: structuredClone(m) });
    };
    const handle = answer ? async (req: EngineRequest) => answer(req, reply) : createHandler(reply);
    workers.push(w);
    return w as unknown as Worker;
  };
  const crashes: string[] = [];
  return { channel: new WorkerChannel(create, (m) => crashes.push(m)), workers, crashes };
}

let root: string;
beforeAll(async () => {
  root = await ensureTinyModel();
});

describe('WorkerChannel', () => {
  it('resolves each request with its own result, and a load’s progress reaches its listener', async () => {
    const { channel } = pipe();
    expect(channel.running).toBe(false);
    const progress: LoadProgress[] = [];
    const dtypes = { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' } as const;
    const loaded = channel.request(
      'load',
      { model: MODEL_ID, device: 'cpu', dtypes, source: { kind: 'local', localModelPath: root } },
      { progress: (e) => progress.push(e.progress) },
    );
    // Queued behind the load in the worker, answered in order, each with its own shape.
    const configured = channel.request('configure', { kvBudgetBytes: 2 ** 20 });
    const aborted = channel.request('abort', { target: 999 });
    expect(channel.running).toBe(true);
    expect(await loaded).toMatchObject({ model: MODEL_ID, device: 'cpu', dtypes });
    expect(progress.at(-1)?.files.every((f) => f.done)).toBe(true);
    expect(await configured).toEqual({ kvUsage: { chats: 0, bytes: 0, budget: 2 ** 20 } });
    expect(await aborted).toEqual({ aborted: false });
    expect(await channel.request('reset', {})).toEqual({ ok: true });
  });

  it('a done that answers another request type rejects instead of passing the wrong shape on', async () => {
    const { channel } = pipe((req, reply) => reply({ id: req.id, type: 'done', call: 'reset', result: { ok: true } }));
    const err = await channel.request('configure', { kvBudgetBytes: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).data).toEqual({ call: 'configure', answered: 'reset' });
  });

  it('stop() ends the worker and fails what was pending; the next request starts a fresh worker', async () => {
    const { channel, workers } = pipe(() => undefined); // never answers
    const pending = channel.request('reset', {});
    channel.stop(new WorkerCrashedError('gone'));
    await expect(pending).rejects.toThrow('gone');
    expect(workers[0]?.terminated).toBe(true);
    expect(channel.running).toBe(false);
    void channel.request('reset', {}).catch(() => undefined);
    expect(workers).toHaveLength(2);
  });
});
