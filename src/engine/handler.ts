import { serializeError } from '../errors';
import { VlmEngine } from './engine';
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
export function createHandler(post: (message: EngineResponse) => void, engine = new VlmEngine()) {
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
      return { model, device, dtypes, loadMs };
    },
    generate: ({ input }, { signal, emit }) =>
      engine.generate(input, {
        signal,
        onToken: (text, tokens) => emit('token', { text, tokens }),
        onVision: (p) => emit('vision', p),
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
    async abort({ target }) {
      const ctrl = aborts.get(target);
      ctrl?.abort();
      return { aborted: !!ctrl };
    },
  };

  async function run<K extends EngineCall>(req: RequestOf<K>): Promise<void> {
    const signal = (aborts.get(req.id) ?? new AbortController()).signal;
    const ctx: CallContext<K> = { signal, emit: (type, event) => send[type](req.id, event) };
    try {
      const call: EngineHandlers[K] = handlers[req.type];
      const result = await call(req, ctx);
      post({ id: req.id, type: 'done', call: req.type, result });
    } catch (err) {
      post({ id: req.id, type: 'error', error: serializeError(err) });
    } finally {
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
