/**
 * The remote backend: the session's context goes to the user's Glimpse proxy, which holds the OpenAI key and
 * forwards to the fine-tuned model. For a model that reads images (the setting), the image in context goes
 * with it, once, downscaled for the chosen detail (src/remote/image.ts); otherwise the text only. This side uses the `openai` SDK pointed at
 * `${proxyUrl}/v1` with a placeholder key: the real key never exists in the browser.
 */
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type { BackendRequest, BackendResult, ChatBackend } from '../chat/backend';
import {
  GenerationAbortedError,
  RemoteRateLimitedError,
  RemoteRequestError,
  RemoteUnavailableError,
  type GlimpseError,
} from '../errors';
import { toOpenAIMessages } from './convert';
import { encodeForRemote, type ImageEncoder } from './image';

export interface RemoteBackendOptions {
  /** The proxy's base URL, e.g. http://127.0.0.1:8787 (a function so a settings change applies at once). */
  proxyUrl: string | (() => string);
  /** Per-request time limit in ms (the proxy has its own upstream limit and retries). Default 120 s. */
  timeoutMs?: number;
  /** Whether the chosen remote model reads images (Settings); read at each call. Default: no. */
  acceptsImages?: boolean | (() => boolean);
  /** Turns the picture into the data: URL sent (default: the browser's downscale and re-encode). */
  encodeImage?: ImageEncoder;
}

/** Placeholder the SDK insists on; the proxy ignores whatever key the browser sends. */
const PLACEHOLDER_KEY = 'glimpse-proxy-holds-the-key';

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export class RemoteBackend implements ChatBackend {
  readonly id = 'remote';
  readonly #options: RemoteBackendOptions;

  constructor(options: RemoteBackendOptions) {
    this.#options = options;
  }

  get acceptsImages(): boolean {
    const a = this.#options.acceptsImages;
    return typeof a === 'function' ? a() : a ?? false;
  }

  /** The image in context as a data: URL, when the model reads images; undefined otherwise. */
  async #imageUrl(request: BackendRequest): Promise<string | undefined> {
    if (!request.image || !this.acceptsImages) return undefined;
    return (this.#options.encodeImage ?? encodeForRemote)(request.image.blob, request.settings.imageDetail);
  }

  /** The proxy URL, without a trailing slash; '' when unset. */
  get proxyUrl(): string {
    const u = typeof this.#options.proxyUrl === 'function' ? this.#options.proxyUrl() : this.#options.proxyUrl;
    return u.trim().replace(/\/+$/, '').replace(/\/v1$/, '');
  }

  async generate(request: BackendRequest): Promise<BackendResult> {
    const { settings, signal } = request;
    const proxyUrl = this.proxyUrl;
    if (!/^https?:\/\//.test(proxyUrl)) {
      throw new RemoteUnavailableError('Set the proxy URL in settings (for example http://127.0.0.1:8787) to use ' +
        'the remote model.', { url: proxyUrl });
    }
    const client = new OpenAI({
      apiKey: PLACEHOLDER_KEY,
      baseURL: `${proxyUrl}/v1`,
      dangerouslyAllowBrowser: true,
      maxRetries: 0, // the proxy retries upstream faults itself
      timeout: this.#options.timeoutMs ?? 120_000,
      logLevel: 'off',
    });

    const started = performance.now();
    let full = '';
    let tokens = 0;
    let model = '';
    let firstTokenAt: number | undefined;
    try {
      const imageUrl = await this.#imageUrl(request);
      const stream = await client.chat.completions.create({
        model: settings.model,
        messages: toOpenAIMessages(request.messages, settings.systemPrompt, imageUrl),
        temperature: clamp(settings.temperature, 0, 2),
        top_p: clamp(settings.topP, 0, 1),
        max_tokens: Math.max(1, Math.floor(settings.maxNewTokens)),
        stream: true,
      }, { signal });
      for await (const chunk of stream) {
        if (chunk.model) model = chunk.model;
        const text = chunk.choices[0]?.delta.content ?? '';
        if (text.length === 0) continue;
        firstTokenAt ??= performance.now();
        full += text;
        tokens += 1;
        request.onToken?.({ text, full, tokens });
      }
      // The SDK ends a stream quietly when it is aborted mid-read; a stop must still reject.
      if (signal.aborted) throw new APIUserAbortError();
    } catch (err) {
      throw this.#toGlimpseError(err, signal, full, proxyUrl);
    }

    const totalMs = performance.now() - started;
    const genMs = firstTokenAt === undefined ? 0 : performance.now() - firstTokenAt;
    const answeredBy = model || settings.model || 'proxy default';
    return {
      text: full,
      model: answeredBy,
      details: {
        model: answeredBy,
        backend: 'remote',
        tokens,
        totalMs: Math.round(totalMs),
        ...(firstTokenAt === undefined ? {} : { timeToFirstTokenMs: Math.round(firstTokenAt - started) }),
        ...(genMs > 0 && tokens > 1 ? { tokensPerSecond: Math.round(((tokens - 1) / genMs) * 1000 * 10) / 10 } : {}),
      },
    };
  }

  #toGlimpseError(err: unknown, signal: AbortSignal, partial: string, url: string): GlimpseError {
    if (signal.aborted || err instanceof APIUserAbortError) {
      return new GenerationAbortedError('Stopped.', { partial });
    }
    if (err instanceof APIConnectionError) {
      return new RemoteUnavailableError(`Could not reach the proxy at ${url}. Is it running (npm run proxy) and is ` +
        'this page\'s origin in GLIMPSE_ALLOWED_ORIGINS?', { url, partial }, { cause: err });
    }
    if (err instanceof APIError) {
      const body = (err.error ?? {}) as { message?: unknown; type?: unknown; param?: unknown };
      const message = typeof body.message === 'string' ? body.message : err.message;
      const data = { status: err.status ?? null, type: body.type ?? null, param: body.param ?? null, partial };
      if (err.status === 429) {
        const retryAfter = Number(err.headers?.get('retry-after') ?? NaN);
        return new RemoteRateLimitedError(message,
          { ...data, retryAfterSec: Number.isFinite(retryAfter) ? retryAfter : null }, { cause: err });
      }
      // No status: an error event in the middle of the stream (the proxy lost the model server).
      if (err.status === undefined || err.status >= 500) return new RemoteUnavailableError(message, data, { cause: err });
      return new RemoteRequestError(message, data, { cause: err });
    }
    return new RemoteRequestError(err instanceof Error ? err.message : String(err), { partial }, { cause: err });
  }
}
