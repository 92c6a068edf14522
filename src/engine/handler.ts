import { serializeError } from '../errors';
import { VlmEngine } from './engine';
import { classifyEngineError } from './errors';
import { WorkerRoom } from './memory';
import { watchStopFlag } from './yield';
import type {
  EngineCall,
  EngineEvents,
  EngineRequest,
  EngineResponse,
  EventsOf,
  ParamsOf,
  RequestOf,
  ResultOf,
} from './protocol';

/** What a request's handler gets besides its parameters: its abort signal and its own events, typed. */
export interface CallContext<K extends EngineCall> {
  signal: AbortSignal;
  emit<E extends EventsOf<K>>(type: E, event: EngineEvents[E]): void;
}

/** One handler per request type, each returning exactly that type's result (src/engine/protocol.ts). */
export type EngineHandlers = {
  [K in EngineCall]: (params: ParamsOf<K>, ctx: CallContext<K>) => Promise<ResultOf<K>>;
};

type Senders = { [E in keyof EngineEvents]: (id: number, event: EngineEvents[E]) => void };

/**
 * The worker's logic, separate from the worker entry so it runs in-process in tests: it owns one engine,
 * runs one request at a time (a GPU runs one generation at a time anyway) and answers every request id
 * with progress/token events and exactly one done or error.
 */
export function createHandler(post: (message: EngineResponse) => void, given?: VlmEngine, room = new WorkerRoom()) {
  // The worker's own engine checks each picture against the memory the worker has left.
  const engine = given ?? new VlmEngine({ memoryRoom: () => room.room() });
  const aborts = new Map<number, AbortController>();
  let queue: Promise<unknown> = Promise.resolve();
  const send: Senders = {
    progress: (id, { progress }) => post({ id, type: 'progress', progress }),
    token: (id, { text, tokens }) => post({ id, type: 'token', text, tokens }),
    vision: (id, { frame, frames }) => post({ id, type: 'vision', frame, frames }),
  };

  const handlers: EngineHandlers = {
    async load({ model, device, dtypes, source }, { emit }) {
      const onProgress = (progress: EngineEvents['progress']['progress']) => emit('progress', { progress });
      const { loadMs } = await engine.load({ model, device, dtypes, source, onProgress });
      room.loaded();
      return { model, device, dtypes, loadMs };
    },
    generate: ({ input }, { signal, emit }) =>
      // What escapes unnamed (a RangeError while preparing a picture) is named here, so the page can act on it.
      engine.generate(input, {
        signal,
        onToken: (text, tokens) => emit('token', { text, tokens }),
        onVision: (p) => emit('vision', p),
      }).catch((err: unknown) => {
        throw classifyEngineError(err, { model: engine.current?.model ?? input.settings.model, phase: 'generate' });
      }),
    async reset() {
      await engine.resetCache();
      return { ok: true };
    },
    async configure({ kvBudgetBytes }) {
      // Queued like the rest: a smaller budget evicts caches between answers, never under one.
      await engine.setKvBudget(kvBudgetBytes);
      return { kvUsage: engine.kvUsage };
    },
    async memory({ budgetBytes }) {
      room.setBudget(budgetBytes);
      return room.report();
    },
    async abort({ target }) {
      const ctrl = aborts.get(target);
      ctrl?.abort();
      return { aborted: !!ctrl };
    },
  };

  async function run<K extends EngineCall>(req: RequestOf<K>): Promise<void> {
    const ctrl = aborts.get(req.id) ?? new AbortController();
    const ctx: CallContext<K> = { signal: ctrl.signal, emit: (type, event) => send[type](req.id, event) };
    // Watched only while this request runs: the page's shared stop flag, read after each model step.
    const stop = (req as { stop?: unknown }).stop;
    const unwatch = typeof SharedArrayBuffer === 'function' && stop instanceof SharedArrayBuffer ? watchStopFlag(stop, () => ctrl.abort()) : null;
    try {
      const call: EngineHandlers[K] = handlers[req.type];
      const result = await call(req, ctx);
      post({ id: req.id, type: 'done', call: req.type, result });
    } catch (err) {
      post({ id: req.id, type: 'error', error: serializeError(err) });
    } finally {
      unwatch?.();
      aborts.delete(req.id);
    }
  }

  return function handle(req: EngineRequest): Promise<void> {
    // Not queued: an abort must reach a running generation (or one still waiting its turn).
    if (req.type === 'abort') return run(req);
    if (req.type === 'generate') aborts.set(req.id, new AbortController());
    const next = queue.then(() => run(req));
    queue = next;
    return next;
  };
}
