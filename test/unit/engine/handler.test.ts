import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION } from '../../../src/chat/backend';
import { makeContent } from '../../../src/chat/messages';
import { createHandler } from '../../../src/engine/handler';
import type { EngineRequest, EngineResponse } from '../../../src/engine/protocol';
import { deserializeError, GenerationAbortedError, ModelFilesMissingError, UnknownModelError } from '../../../src/errors';
import { ensureTinyModel, MODEL_ID } from '../../fixtures/model/ensure';

let root: string;
beforeAll(async () => {
  root = await ensureTinyModel();
});

/** Runs the worker's handler in-process, with messages structured-cloned as postMessage would. */
function harness() {
  const messages: EngineResponse[] = [];
  const handle = createHandler((m) => messages.push(structuredClone(m)));
  const send = (req: EngineRequest) => handle(structuredClone(req));
  return { messages, send, of: (id: number) => messages.filter((m) => m.id === id) };
}

const dtypes = { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' } as const;
const gen = (id: number, text: string, maxNewTokens = 6): EngineRequest => ({
  id,
  type: 'generate',
  input: {
    sessionId: 's',
    messages: [{ role: 'user', content: makeContent(text, false), timestamp: '' }],
    image: null,
    settings: { ...DEFAULT_GENERATION, model: MODEL_ID, maxNewTokens },
  },
});

describe('the worker handler (protocol)', () => {
  it('answers each request id with progress/token events and exactly one done', async () => {
    const h = harness();
    await h.send({ id: 1, type: 'load', model: MODEL_ID, device: 'cpu', dtypes, source: { kind: 'local', localModelPath: root } });
    const load = h.of(1);
    expect(load.filter((m) => m.type === 'done')).toHaveLength(1);
    expect(load.at(-1)).toMatchObject({ type: 'done', result: { model: MODEL_ID, device: 'cpu' } });
    const progress = load.filter((m) => m.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    const last = progress.at(-1);
    if (last?.type !== 'progress') throw new Error('no progress');
    expect(last.progress.files.map((f) => f.file)).toContain('onnx/decoder_model_merged.onnx');
    expect(last.progress.files.every((f) => f.done)).toBe(true);

    await h.send(gen(2, 'hello'));
    const out = h.of(2);
    expect(out.filter((m) => m.type === 'token').length).toBeGreaterThan(0);
    expect(out.filter((m) => m.type === 'done')).toHaveLength(1);
    expect(out.at(-1)?.type).toBe('done');
  });

  it('abort stops a running generation; the error keeps its name across the boundary', async () => {
    const h = harness();
    await h.send({ id: 1, type: 'load', model: MODEL_ID, device: 'cpu', dtypes, source: { kind: 'local', localModelPath: root } });
    const running = h.send(gen(2, 'a long one', 400));
    await new Promise((r) => setTimeout(r, 30));
    await h.send({ id: 3, type: 'abort', target: 2 });
    await running;
    const end = h.of(2).at(-1);
    expect(end?.type).toBe('error');
    if (end?.type !== 'error') return;
    const err = deserializeError(end.error);
    expect(err).toBeInstanceOf(GenerationAbortedError);
    expect(typeof err.data.partial).toBe('string');
    expect(h.of(3).at(-1)).toMatchObject({ type: 'done', result: { aborted: true } });
    // Still usable.
    await h.send(gen(4, 'again'));
    expect(h.of(4).at(-1)?.type).toBe('done');
  });

  it('a shared stop flag raised by the page stops the generation after that token, with no abort message', async () => {
    // What a cross-origin isolated page does: the flag is read after each model step, no task turn needed.
    const stop = new SharedArrayBuffer(4);
    let raisedAt = -1;
    const messages: EngineResponse[] = [];
    const handle = createHandler((m) => {
      messages.push(structuredClone(m));
      if (m.type === 'token' && m.id === 2 && raisedAt < 0 && m.tokens >= 3) {
        raisedAt = m.tokens;
        Atomics.store(new Int32Array(stop), 0, 1);
      }
    });
    await handle({ id: 1, type: 'load', model: MODEL_ID, device: 'cpu', dtypes, source: { kind: 'local', localModelPath: root } });
    await handle({ ...gen(2, 'a long one', 400), stop } as EngineRequest);
    const out = messages.filter((m) => m.id === 2);
    const end = out.at(-1);
    if (end?.type !== 'error') throw new Error(`expected a stop, got ${end?.type}`);
    const err = deserializeError(end.error);
    expect(err).toBeInstanceOf(GenerationAbortedError);
    expect(String(err.data.partial).length).toBeGreaterThan(0);
    expect(raisedAt).toBeGreaterThanOrEqual(3);
    expect((err.data.stats as { tokens: number }).tokens).toBeLessThanOrEqual(raisedAt + 1);
    // The flag belonged to that request only: the next one runs to its end.
    await handle(gen(3, 'again'));
    expect(messages.filter((m) => m.id === 3).at(-1)?.type).toBe('done');
  });

  it('a model that does not exist is a named error and the handler stays usable', async () => {
    const h = harness();
    await h.send({ id: 1, type: 'load', model: 'nobody/missing', device: 'cpu', dtypes, source: { kind: 'local', localModelPath: root } });
    const end = h.of(1).at(-1);
    if (end?.type !== 'error') throw new Error(`expected an error, got ${end?.type}`);
    expect([ModelFilesMissingError.errorName, UnknownModelError.errorName]).toContain(deserializeError(end.error).name);
    await h.send({ id: 2, type: 'load', model: MODEL_ID, device: 'cpu', dtypes, source: { kind: 'local', localModelPath: root } });
    expect(h.of(2).at(-1)?.type).toBe('done');
  });

  it('configure sets the memory for recent chats in the engine, after the answer before it, and evicts to fit', async () => {
    const h = harness();
    await h.send({ id: 1, type: 'load', model: MODEL_ID, device: 'cpu', dtypes, source: { kind: 'local', localModelPath: root } });
    const answering = h.send(gen(2, 'hello'));
    const configuring = h.send({ id: 3, type: 'configure', kvBudgetBytes: 64 * 2 ** 20 });
    await Promise.all([answering, configuring]);
    // Queued behind the answer: the chat's cache was kept first, and fits 64 MB.
    expect(h.messages.findIndex((m) => m.id === 2 && m.type === 'done')).toBeLessThan(h.messages.findIndex((m) => m.id === 3));
    const kept = h.of(3).at(-1);
    if (kept?.type !== 'done') throw new Error(`expected done, got ${kept?.type}`);
    expect(kept.result).toMatchObject({ kvUsage: { chats: 1, budget: 64 * 2 ** 20 } });
    // No memory at all: the cache is evicted (freed), and the engine still answers.
    await h.send({ id: 4, type: 'configure', kvBudgetBytes: 0 });
    expect(h.of(4).at(-1)).toMatchObject({ type: 'done', result: { kvUsage: { chats: 0, bytes: 0, budget: 0 } } });
    await h.send(gen(5, 'again'));
    expect(h.of(5).at(-1)?.type).toBe('done');
  });
});
