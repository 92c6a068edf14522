/**
 * Whether the inference server can answer, for the REST API's GET /health (GLIMPSE_ENGINE=openai). One short
 * probe at a time, its result kept for `ttlMs`, so a load balancer polling /health every second costs the
 * server at most one request per `ttlMs`: `GET /health` at the server's root (llama-server: 200 when ready, 503
 * while it loads its model; vLLM: 200), or, where that path is unknown (404), `GET {base}/models`.
 * A server that does not answer within `timeoutMs` (down, or stopped with SIGSTOP) is unreachable.
 */

export interface HealthOptions {
  /** How long a probe's result is kept (default 5 s). */
  ttlMs?: number;
  /** How long a probe may take (default 2 s). */
  timeoutMs?: number;
}

export type EngineState = 'ready' | 'loading' | 'error';

export class EngineHealth {
  state: EngineState = 'ready';
  error: string | null = null;
  reachable = true;
  private checkedAt = -Infinity;
  private probing: Promise<void> | null = null;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly baseURL: string, private readonly apiKey: string, private readonly host: string, opts: HealthOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 5_000;
    this.timeoutMs = opts.timeoutMs ?? 2_000;
  }

  /** Probes the server unless a recent probe answered; concurrent callers share one probe. */
  refresh(): Promise<void> {
    if (performance.now() - this.checkedAt < this.ttlMs) return Promise.resolve();
    this.probing ??= this.probe().finally(() => {
      this.checkedAt = performance.now();
      this.probing = null;
    });
    return this.probing;
  }

  private async probe(): Promise<void> {
    const root = this.baseURL.replace(/\/v1\/?$/, '');
    try {
      let res = await this.get(`${root}/health`);
      if (res.status === 404) res = await this.get(`${this.baseURL}/models`);
      this.reachable = true;
      if (res.ok) return this.set('ready', null);
      if (res.status === 503) return this.set('loading', `The inference server at ${this.host} is loading its model (status 503).`);
      this.set('error', `The inference server at ${this.host} answered its health check with status ${res.status}.`);
    } catch (err) {
      this.reachable = false;
      const timeout = err instanceof DOMException && err.name === 'TimeoutError';
      this.set('error', timeout
        ? `The inference server at ${this.host} did not answer its health check within ${this.timeoutMs} ms.`
        : `Could not reach the inference server at ${this.host}: is it running, and is GLIMPSE_ENGINE_URL right?`);
    }
  }

  private async get(url: string): Promise<Response> {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(this.timeoutMs),
      headers: this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {},
    });
    await res.arrayBuffer().catch(() => undefined); // read to the end, so the connection is kept for the next probe
    return res;
  }

  private set(state: EngineState, error: string | null): void {
    this.state = state;
    this.error = error;
  }
}
