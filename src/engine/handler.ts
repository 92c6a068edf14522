import { serializeError } from '../errors';
import { VlmEngine } from './engine';
import type { DoneResults, EngineRequest, EngineResponse } from './protocol';

/**
 * The worker's logic, separate from the worker entry so it runs in-process in tests: it owns one engine,
 * runs one request at a time (a GPU runs one generation at a time anyway) and answers every request id
 * with progress/token events and exactly one done or error.
 */
export function createHandler(post: (message: EngineResponse) => void, engine = new VlmEngine()) {
  const aborts = new Map<number, AbortController>();
  let queue: Promise<unknown> = Promise.resolve();

  const done = <K extends keyof DoneResults>(id: number, _type: K, result: DoneResults[K]) =>
    post({ id, type: 'done', result });

  async function run(req: EngineRequest): Promise<void> {
    try {
      switch (req.type) {
        case 'load': {
          const { loadMs } = await engine.load({
            model: req.model,
            device: req.device,
            dtypes: req.dtypes,
            source: req.source,
            onProgress: (progress) => post({ id: req.id, type: 'progress', progress }),
          });
          done(req.id, 'load', { model: req.model, device: req.device, dtypes: req.dtypes, loadMs });
          break;
        }
        case 'generate': {
          const ctrl = aborts.get(req.id) ?? new AbortController();
          const result = await engine.generate(req.input, {
            signal: ctrl.signal,
            onToken: (text, tokens) => post({ id: req.id, type: 'token', text, tokens }),
          });
          done(req.id, 'generate', result);
          break;
        }
        case 'reset':
          await engine.resetCache();
          done(req.id, 'reset', { ok: true });
          break;
        case 'configure':
          // Queued like the rest: a smaller budget evicts caches between answers, never under one.
          await engine.setKvBudget(req.kvBudgetBytes);
          done(req.id, 'configure', { kvUsage: engine.kvUsage });
          break;
        case 'abort':
          break; // handled immediately in handle()
      }
    } catch (err) {
      post({ id: req.id, type: 'error', error: serializeError(err) });
    } finally {
      aborts.delete(req.id);
    }
  }

  return function handle(req: EngineRequest): Promise<void> {
    if (req.type === 'abort') {
      // Not queued: it must reach a running generation (or one still waiting its turn).
      const ctrl = aborts.get(req.target);
      ctrl?.abort();
      done(req.id, 'abort', { aborted: !!ctrl });
      return Promise.resolve();
    }
    if (req.type === 'generate') aborts.set(req.id, new AbortController());
    const next = queue.then(() => run(req));
    queue = next;
    return next;
  };
}
