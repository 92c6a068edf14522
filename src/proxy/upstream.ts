/**
 * The upstream side: one `openai` client holding the key, our own retry loop, and the mapping of SDK errors
 * to the JSON errors the proxy answers with.
 *
 * Why our own retries and not the SDK's `maxRetries`: the SDK's backoff (0.5 s doubling to 8 s) is fixed, it
 * waits for a retry-after of up to 60 s while the browser sits on an open request, and it does not say how
 * many attempts it made. We keep what it does well (per-attempt `timeout`, abort via `signal`, typed errors
 * carrying the response headers) and set its `maxRetries` to 0.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import { retryAfterMs, withRetries } from '../remote/retry';
import { GlimpseError } from '../errors';
import type { ProxyConfig } from './config';

/** Kept here for the proxy's callers and tests: the retry rules themselves live in src/remote/retry.ts. */
export { retryDelay } from '../remote/retry';

/** A failure in a form the handler can answer with directly. */
export class UpstreamFailure extends GlimpseError {
  static override readonly errorName = 'UpstreamFailure';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly attempts: number,
    readonly retryAfterSec?: number,
    /** The upstream's own machine-readable `code` and `param`, when they are plain identifiers. */
    readonly upstream: { code: string | null; param: string | null } = { code: null, param: null },
  ) {
    super(message, { status, type, attempts, retryAfterSec, upstream });
  }
}

export interface Upstream {
  complete(params: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal): Promise<ChatCompletion>;
  /** Resolves once the upstream answered with headers; the chunks then arrive with an idle time limit. */
  stream(params: ChatCompletionCreateParamsStreaming, signal: AbortSignal): Promise<AsyncIterable<ChatCompletionChunk>>;
}

/** Removes the key (and anything shaped like an OpenAI key) from text that may reach a client or a log. */
export function redact(text: string, apiKey: string): string {
  let out = apiKey.length > 0 ? text.split(apiKey).join('[redacted]') : text;
  out = out.replace(/\bsk-[A-Za-z0-9_*.-]{3,}/g, '[redacted]');
  return out;
}

// Lower-case words only: base64 or hex of a key has capitals or digits, a key has dashes.
const CODE = /^[a-z_]{1,64}$/;
const PARAM = /^[a-z_]{1,40}(\[\d{1,4}\](\.[a-z_]{1,40})?)?$/;

function identifier(value: unknown, shape: RegExp): string | null {
  return typeof value === 'string' && shape.test(value) ? value : null;
}

/** Maps any error from an upstream call to an {@link UpstreamFailure} with a status and a safe message. */
export function toFailure(err: unknown, attempts: number, config: ProxyConfig): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  if (err instanceof APIUserAbortError) return new UpstreamFailure(499, 'client_closed', 'The client went away.', attempts);
  if (err instanceof APIConnectionTimeoutError) {
    return new UpstreamFailure(504, 'upstream_timeout',
      `The model server did not answer within ${config.timeoutMs} ms${tries}.`, attempts);
  }
  if (err instanceof APIConnectionError) {
    return new UpstreamFailure(502, 'upstream_unreachable', `Could not reach the model server${tries}.`, attempts);
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const s = err.status;
    if (s === 429) {
      const wait = retryAfterMs(err);
      return new UpstreamFailure(429, 'rate_limited', `The model server is rate limiting this proxy${tries}; ` +
        'try again later.', attempts, wait === undefined ? undefined : Math.max(1, Math.ceil(wait / 1000)));
    }
    if (s === 401 || s === 403) {
      return new UpstreamFailure(502, 'upstream_auth',
        'The model server refused the proxy\'s credentials: the operator should check OPENAI_API_KEY.', attempts);
    }
    if (s >= 500) {
      return new UpstreamFailure(502, 'upstream_error', `The model server failed with status ${s}${tries}.`, attempts);
    }
    // 400/404/422...: the request itself was refused. Its text is not ours to vouch for (it has quoted keys,
    // encoded or not), so only the status and the upstream's identifiers (`context_length_exceeded`,
    // `messages[0].content`) go back; the text goes nowhere, not even to the log.
    const upstream = { code: identifier(err.code, CODE), param: identifier(err.param, PARAM) };
    const why = upstream.code ? ` (${upstream.code}${upstream.param ? `, ${upstream.param}` : ''})` : '';
    return new UpstreamFailure(s, 'upstream_rejected', `The model server refused the request with status ${s}${why}.`,
      attempts, undefined, upstream);
  }
  return new UpstreamFailure(500, 'internal_error', 'The proxy failed unexpectedly.', attempts);
}

/** What the metrics hear of the upstream calls (src/proxy/node.ts counts them; optional, portable). */
export interface UpstreamHooks {
  /** Before each retry, why: rate_limited, server_error, timeout, connection, or the status. */
  onRetry?(reason: string): void;
  /** Each failed attempt: the upstream's HTTP status, or null when none came (a timeout, a connection error). */
  onAttemptFailed?(status: number | null): void;
}

const attemptStatus = (err: unknown): number | null =>
  err instanceof APIError && typeof err.status === 'number' ? err.status : null;

function retryReason(err: unknown): string {
  if (err instanceof APIConnectionTimeoutError) return 'timeout';
  if (err instanceof APIConnectionError) return 'connection';
  const status = attemptStatus(err);
  if (status === 429) return 'rate_limited';
  return status !== null && status >= 500 ? 'server_error' : String(status ?? 'other');
}

/** Runs `call` with retries on timeouts, connection errors, 408/409/429/5xx; throws an UpstreamFailure. */
function retried<T>(call: () => Promise<T>, config: ProxyConfig, signal: AbortSignal, hooks: UpstreamHooks): Promise<T> {
  return withRetries(call, config.retry, signal, {
    fail: (err, attempts) => {
      if (!(err instanceof APIUserAbortError)) hooks.onAttemptFailed?.(attemptStatus(err));
      return toFailure(err, attempts, config);
    },
    onRetry: (_attempt, err) => {
      hooks.onAttemptFailed?.(attemptStatus(err));
      hooks.onRetry?.(retryReason(err));
    },
  });
}

/** Yields the chunks of `source`, failing with a 504 when none arrives for `idleMs`. */
async function* withIdleTimeout<T>(source: AsyncIterable<T>, idleMs: number, onIdle: () => void): AsyncGenerator<T> {
  // One watchdog per stream, not a timer per chunk: a stream of hundreds of chunks would otherwise create and
  // clear hundreds of timers and promises (measured: a third of the proxy's streamed throughput).
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  let last = Date.now();
  let rejectIdle: (err: unknown) => void = () => undefined;
  const idle = new Promise<never>((_, reject) => (rejectIdle = reject));
  idle.catch(() => undefined);
  const check = Math.max(10, Math.min(1000, Math.floor(idleMs / 4)));
  const watchdog = setInterval(() => {
    if (Date.now() - last < idleMs) return;
    clearInterval(watchdog);
    onIdle();
    rejectIdle(new UpstreamFailure(504, 'upstream_timeout',
      `The model server stopped sending for ${idleMs} ms in the middle of an answer.`, 1));
  }, check);
  try {
    for (;;) {
      const next = await Promise.race([it.next(), idle]);
      last = Date.now();
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
      last = Date.now();
    }
  } finally {
    clearInterval(watchdog);
    // Stopped early (the response body was cancelled, or an error): close the SDK stream, which aborts upstream.
    if (!finished) void Promise.resolve(it.return?.()).catch(() => undefined);
  }
}

/** The real upstream: the `openai` SDK with the key from the config. */
export function createUpstream(config: ProxyConfig, hooks: UpstreamHooks = {}): Upstream {
  const client = new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    timeout: config.timeoutMs,
    maxRetries: 0,
    logLevel: 'off',
  });
  return {
    complete: (params, signal) =>
      retried(() => client.chat.completions.create(params, { signal }), config, signal, hooks),
    async stream(params, signal) {
      const s = await retried(() => client.chat.completions.create(params, { signal }), config, signal, hooks);
      return withIdleTimeout(s, config.timeoutMs, () => s.controller.abort());
    },
  };
}
