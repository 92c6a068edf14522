/**
 * Answers from an OpenAI-compatible inference server (GLIMPSE_ENGINE=openai): llama.cpp's llama-server with a
 * SmolVLM GGUF and its mmproj, vLLM, or anything speaking /v1/chat/completions. The chat service has already
 * applied the window and the one-image rule; this sends that context with the image as an `image_url` data
 * URL (always a JPEG or PNG: engine-image.ts), streams the answer, and retries upstream faults with the
 * proxy's rules (src/remote/retry.ts) as long as no token has arrived: a stream that already produced text
 * is never sent again (no duplicated text).
 *
 * Nothing here imports onnxruntime or transformers.js: a server on this engine never loads them.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { BackendRequest, BackendResult, ChatBackend, GenerationSettings } from '../chat/backend';
import { continuedText } from '../chat/continue';
import { makeContent } from '../chat/messages';
import { GenerationAbortedError, isError } from '../errors';
import { withRetries, type RetryPolicy } from '../remote/retry';
import { completionParams, readChunks, StreamedAnswer, streamTimings } from '../remote/stream';
import type { OpenAIEngineConfig } from './config';
import { EngineHealth, type HealthOptions } from './engine-health';
import { EngineImages } from './engine-image';
import { answeringModel, promptDetails, readCounts, sseChunks, type ServerCounts } from './engine-stream';
import { retryReason, toEngineError, upstreamStatus, type ErrorContext } from './openai-errors';

export interface OpenAIEngineOptions {
  config: OpenAIEngineConfig;
  /** Backoff settings (tests shorten them); maxRetries comes from the config. */
  retry?: Partial<Omit<RetryPolicy, 'maxRetries'>>;
  /** Before each retry (1-based attempt number; reason: rate_limited, server_error, connection or timeout). */
  onRetry?(attempt: number, reason: string): void;
  /** Each failed attempt: the upstream's HTTP status, or null for a connection error, a timeout or a drop. */
  onUpstreamError?(status: number | null): void;
  /** How GET /health probes the server (tests shorten it). */
  health?: HealthOptions;
  /** A failed turn's reason, for the server's log (never the key: the messages are the client's, redacted). */
  log?(line: string): void;
}

/**
 * The request for a turn: the chat's settings as the local engine honours them, and the counts asked for.
 * `repeat_penalty` is llama-server's name, `repetition_penalty` vLLM's; each server ignores the other's.
 */
function engineParams(model: string, req: BackendRequest, imageUrl: string | undefined, soFar: string | undefined):
  ChatCompletionCreateParamsStreaming {
  const s: GenerationSettings = req.settings;
  const penalty = Math.min(2, Math.max(1, s.repetitionPenalty));
  return {
    ...completionParams(model, soFar === undefined ? req : endingWith(req, soFar), imageUrl),
    stream_options: { include_usage: true },
    ...({ repeat_penalty: penalty, repetition_penalty: penalty } as object),
    // Continue: the last message is the answer so far, which the server prefills and goes on writing (vLLM's
    // and transformers' names; llama-server reads the same, and prefills a last assistant message by default).
    ...(req.continueAnswer ? ({ continue_final_message: true, add_generation_prompt: false } as object) : {}),
  };
}

/** Continue's request, its last message (the answer) as the text the server goes on from. */
function endingWith(req: BackendRequest, soFar: string): BackendRequest {
  return { ...req, messages: [...req.messages.slice(0, -1), { ...req.messages.at(-1)!, content: makeContent(soFar, false) }] };
}

const DEFAULT_RETRY = { baseDelayMs: 250, maxDelayMs: 4_000, maxRetryAfterMs: 20_000 };

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** One attempt's stream: its own abort (the request's, or silence for `idleMs`) and a watchdog. */
class Attempt {
  readonly controller = new AbortController();
  timedOut = false;
  /** The body was read to its end: nothing to abort, and the connection goes back to the pool. */
  finished = false;
  private last = Date.now();
  private readonly watchdog: ReturnType<typeof setInterval>;
  private readonly onAbort = () => this.controller.abort();

  constructor(private readonly parent: AbortSignal, idleMs: number) {
    parent.addEventListener('abort', this.onAbort, { once: true });
    // One interval per attempt, not a timer per chunk (see the proxy's withIdleTimeout).
    this.watchdog = setInterval(() => {
      if (Date.now() - this.last < idleMs) return;
      this.timedOut = true;
      this.controller.abort();
    }, clamp(Math.floor(idleMs / 4), 10, 1_000));
  }

  touch(): void {
    this.last = Date.now();
  }

  /** The error this attempt's abort stands for: a timeout, or the caller's stop. */
  why(err: unknown): unknown {
    if (this.timedOut) return new APIConnectionTimeoutError();
    return err;
  }

  /** The SDK may end a stream quietly when it is aborted mid-read: a stop or a timeout must still fail. */
  check(): void {
    if (this.timedOut) throw new APIConnectionTimeoutError();
    if (this.parent.aborted) throw new APIUserAbortError();
  }

  close(): void {
    clearInterval(this.watchdog);
    this.parent.removeEventListener('abort', this.onAbort);
    if (!this.finished && !this.controller.signal.aborted) this.controller.abort(); // closes the HTTP response if still open
  }
}

interface Opened {
  attempt: Attempt;
  it: AsyncIterator<ChatCompletionChunk>;
  /** The stream ended (with no text, or with only its first). */
  done: boolean;
}

/** The REST API's engine for an OpenAI-compatible server; see the file comment. */
export class OpenAIEngine implements ChatBackend {
  readonly id = 'openai';
  readonly acceptsImages = true;
  /** llama-server and vLLM go on from a prefilled answer (continue_final_message). */
  readonly continues = true;
  private readonly client: OpenAI;
  private readonly health: EngineHealth;
  private readonly policy: RetryPolicy;
  private readonly host: string;
  /** The picture as a JPEG or PNG data URL (llama.cpp reads no WebP), the last conversion kept. */
  private readonly images = new EngineImages();

  constructor(private readonly opts: OpenAIEngineOptions) {
    const { config } = opts;
    this.host = new URL(config.baseURL).host;
    this.policy = { ...DEFAULT_RETRY, ...opts.retry, maxRetries: config.maxRetries };
    this.client = new OpenAI({
      apiKey: config.apiKey || 'none', // llama-server and vLLM without --api-key ignore it
      baseURL: config.baseURL,
      timeout: config.timeoutMs,
      maxRetries: 0, // ours: src/remote/retry.ts
      logLevel: 'off',
    });
    this.health = new EngineHealth(config.baseURL, config.apiKey, this.host, opts.health);
  }

  /** From the last health probe (refresh() runs one when the last is old): ready, loading, or error. */
  get state(): 'ready' | 'loading' | 'error' {
    return this.health.state;
  }

  get error(): string | null {
    return this.health.error;
  }

  /** Probes the inference server for GET /health (at most one probe per few seconds, see engine-health.ts). */
  refresh(): Promise<void> {
    return this.health.refresh();
  }

  get model(): string {
    return this.opts.config.model;
  }

  /** For /health: the kind, the server's host and the model, never the key. */
  get engineInfo(): { kind: 'openai'; host: string; model: string; reachable: boolean } {
    return { kind: 'openai', host: this.host, model: this.opts.config.model, reachable: this.health.reachable };
  }

  async generate(req: BackendRequest): Promise<BackendResult> {
    try {
      return await this.answer(req);
    } catch (err) {
      if (!isError(err, GenerationAbortedError) && err instanceof Error) this.opts.log?.(`inference server: ${err.message}`);
      throw err;
    }
  }

  private async answer(req: BackendRequest): Promise<BackendResult> {
    const started = performance.now();
    const imageUrl = req.image ? await this.images.dataUrl(req.image, req.settings.imageDetail) : undefined;
    const prefix = continuedText(req);
    const params = engineParams(this.opts.config.model, req, imageUrl, prefix);
    const { host, timeoutMs, apiKey: secret } = { host: this.host, ...this.opts.config };
    const ctx: ErrorContext = { host, timeoutMs, secret };
    // The template writes "Assistant: " + text: the space llama-server's answer starts with is the template's
    // (the local engine drops it too), and kept it would make the next turn's prompt differ from the cache.
    const answer = new StreamedAnswer(req.onToken, { trimLeadingSpace: true, ...(prefix !== undefined ? { prefix } : {}) });
    const counts: ServerCounts = {};
    const opened = await withRetries(() => this.open(params, answer, counts, req.signal), this.policy, req.signal, {
      fail: (err, attempts) => toEngineError(err, attempts, ctx, answer, req.signal),
      onRetry: (attempt, err) => this.opts.onRetry?.(attempt, retryReason(err)),
    });
    const firstTokenAt = answer.firstTokenAt ?? performance.now();
    await this.readRest(opened, answer, counts, ctx, req.signal);
    const answeredBy = answeringModel(answer.model, this.opts.config.model);
    return {
      text: answer.text,
      model: answeredBy,
      details: { model: answeredBy, backend: 'openai', ...streamTimings(started, firstTokenAt, performance.now(), answer.tokens),
        ...promptDetails(counts, params.messages), ...(answer.finishReason ? { finishReason: answer.finishReason } : {}) },
    };
  }

  /**
   * Opens the stream and reads up to its first text: everything before it may be retried (a connection
   * dropped after the headers but before a token is still a connection error); nothing after it is.
   */
  private async open(params: ChatCompletionCreateParamsStreaming, answer: StreamedAnswer, counts: ServerCounts,
    signal: AbortSignal): Promise<Opened> {
    const attempt = new Attempt(signal, this.opts.config.timeoutMs);
    try {
      // The raw response (the SDK still turns a refusal into its APIError): read to its end by sseChunks.
      const response = await this.client.chat.completions.create(params, { signal: attempt.controller.signal }).asResponse();
      const it = sseChunks(response);
      const done = await readChunks(it, answer, { untilText: true, onChunk: (c) => this.onChunk(attempt, counts, c) });
      if (done) {
        attempt.check();
        attempt.finished = true;
      }
      return { attempt, it, done };
    } catch (err) {
      attempt.close();
      throw this.beforeFirstToken(attempt.why(err), signal);
    }
  }

  /**
   * Before the first token a cut body (fetch's "terminated") is a dropped connection: worth a retry. The
   * server's own answers (a status, or an error event in the stream) stay what they are.
   */
  private beforeFirstToken(err: unknown, signal: AbortSignal): unknown {
    if (signal.aborted || err instanceof APIUserAbortError) return err;
    this.opts.onUpstreamError?.(upstreamStatus(err, signal));
    if (err instanceof APIError) return err; // APIConnectionError included
    return new APIConnectionError({ message: err instanceof Error ? err.message : String(err), ...(err instanceof Error ? { cause: err } : {}) });
  }

  /** Reads the rest of the answer: a failure now is never retried (the text so far would come twice). */
  private async readRest(o: Opened, answer: StreamedAnswer, counts: ServerCounts, ctx: ErrorContext, signal: AbortSignal):
    Promise<void> {
    try {
      if (!o.done) await readChunks(o.it, answer, { onChunk: (c) => this.onChunk(o.attempt, counts, c) });
      o.attempt.check();
      o.attempt.finished = true;
    } catch (err) {
      const why = o.attempt.why(err);
      if (!signal.aborted && !(why instanceof APIUserAbortError)) this.opts.onUpstreamError?.(upstreamStatus(why, signal));
      throw toEngineError(why, 1, ctx, answer, signal);
    } finally {
      o.attempt.close();
    }
  }

  private onChunk(attempt: Attempt, counts: ServerCounts, chunk: ChatCompletionChunk | undefined): void {
    attempt.touch();
    if (chunk) readCounts(counts, chunk);
  }

  async close(): Promise<void> {}
}
