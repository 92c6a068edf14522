import { EngineError, deserializeError, type GlimpseError } from '../errors';
import {
  isDoneOf,
  type EngineCall,
  type EngineEvents,
  type EngineResponse,
  type EventsOf,
  type ParamsOf,
  type RequestOf,
  type ResultOf,
} from './protocol';

/** Listeners for the events of one request, by event type: only the events its type sends (the rest are `never`). */
export type EventListeners<K extends EngineCall> = {
  [E in keyof EngineEvents]?: E extends EventsOf<K> ? (event: EngineEvents[E]) => void : never;
};
type AnyListeners = { [E in keyof EngineEvents]?: (event: EngineEvents[E]) => void };

interface Pending {
  /** Settles with the request's done (checked to be of its type) or error. */
  settle(msg: Extract<EngineResponse, { type: 'done' | 'error' }>): void;
  reject(err: GlimpseError): void;
  on: AnyListeners;
}

/**
 * The page's end of the worker's protocol: one worker at a time, an id per request, and a pending map that
 * matches each done/error/event to its request. `onCrash` hears a worker that died or sent what the page
 * cannot read (with the ErrorEvent's message, "Uncaught RangeError: …"); stop() ends the worker and fails what was
 * pending.
 */
export class WorkerChannel {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly createWorker: () => Worker,
    private readonly onCrash: (message: string) => void,
  ) {}

  /** Whether a worker is running (a model may be loaded in it). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Whether a request is waiting for its answer (a turn running or queued, a load). */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /**
   * Sends request `call` and resolves with its result, typed by {@link EngineCalls}. `onId` hears the id
   * (to abort it later).
   */
  request<K extends EngineCall>(
    call: K,
    params: ParamsOf<K>,
    on: EventListeners<K> = {},
    onId?: (id: number) => void,
  ): Promise<ResultOf<K>> {
    const id = this.nextId++;
    return new Promise<ResultOf<K>>((resolve, reject) => {
      const settle: Pending['settle'] = (msg) => {
        if (isDoneOf(msg, call)) resolve(msg.result);
        else if (msg.type === 'error') reject(deserializeError(msg.error));
        else reject(new EngineError(`The model's worker answered a ${call} request as if it were a ${msg.call}.`, { call, answered: msg.call }));
      };
      this.pending.set(id, { settle, reject, on });
      this.post({ ...params, id, type: call });
      onId?.(id);
    });
  }

  /** Sends a request whose answer nobody waits for (an abort). */
  notify<K extends EngineCall>(call: K, params: ParamsOf<K>): void {
    this.post({ ...params, id: this.nextId++, type: call });
  }

  /** Terminates the worker (the next request starts a fresh one) and fails every pending request with `err`. */
  stop(err: GlimpseError): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.worker?.terminate();
    this.worker = null;
    for (const p of pending) p.reject(err);
  }

  private post<K extends EngineCall>(req: RequestOf<K>): void {
    this.ensureWorker().postMessage(req);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = this.createWorker();
    w.onmessage = (e: MessageEvent<EngineResponse>) => this.receive(e.data);
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.onCrash(e.message || '');
    };
    w.onmessageerror = () => this.onCrash('the model sent a message the page could not read');
    this.worker = w;
    return w;
  }

  private receive(msg: EngineResponse): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    switch (msg.type) {
      case 'progress':
        p.on.progress?.(msg);
        break;
      case 'token':
        p.on.token?.(msg);
        break;
      case 'vision':
        p.on.vision?.(msg);
        break;
      default:
        this.pending.delete(msg.id);
        p.settle(msg);
    }
  }
}
