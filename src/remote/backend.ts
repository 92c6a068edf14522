/**
 * The remote backend: the session's context goes to the user's Glimpse proxy, which holds the OpenAI key and
 * forwards to the fine-tuned model. For a model that reads images (the setting), the image in context goes
 * with it, once, downscaled for the chosen detail (src/remote/image.ts); otherwise the text only. This side uses the `openai` SDK pointed at
 * `${proxyUrl}/v1` with a placeholder key: the real key never exists in the browser.
 */
import OpenAI, { APIUserAbortError, type APIError } from 'openai';
import type { BackendRequest, BackendResult, ChatBackend } from '../chat/backend';
import { RemoteUnavailableError } from '../errors';
import { encodeForRemote, type ImageEncoder } from './image';
import { bodyMessage, toRemoteError, type FailureWords, type Said } from './sdk-errors';
import { completionParams, readChunks, StreamedAnswer, streamTimings } from './stream';

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
    const answer = new StreamedAnswer(request.onToken);
    try {
      const imageUrl = await this.#imageUrl(request);
      const stream = await client.chat.completions.create(completionParams(settings.model, request, imageUrl), { signal });
      await readChunks(stream[Symbol.asyncIterator](), answer);
      // The SDK ends a stream quietly when it is aborted mid-read; a stop must still reject.
      if (signal.aborted) throw new APIUserAbortError();
    } catch (err) {
      throw toRemoteError(err, signal, answer.text, proxyWords(proxyUrl));
    }
    const answeredBy = answer.model || settings.model || 'proxy default';
    return {
      text: answer.text,
      model: answeredBy,
      details: {
        model: answeredBy,
        backend: 'remote',
        ...streamTimings(started, answer.firstTokenAt, performance.now(), answer.tokens),
        // Marked cut off when max_tokens ended it; OpenAI's API cannot go on from it (no `continues`).
        ...(answer.finishReason ? { finishReason: answer.finishReason } : {}),
      },
    };
  }
}

/** The proxy's failures: its own message (it already keeps the key out), with the upstream's status and type. */
function proxyWords(url: string): FailureWords {
  const said = (err: APIError): Said => {
    const body = (err.error ?? {}) as { type?: unknown; param?: unknown };
    return { message: bodyMessage(err) ?? err.message,
      data: { status: err.status ?? null, type: body.type ?? null, param: body.param ?? null } };
  };
  return {
    unreachable: () => ({ message: `Could not reach the proxy at ${url}. Is it running (npm run proxy) and is ` +
      'this page\'s origin in GLIMPSE_ALLOWED_ORIGINS?', data: { url } }),
    rateLimited: (err) => {
      const { message, data } = said(err);
      const retryAfter = Number(err.headers?.get('retry-after') ?? NaN);
      return { message, data: { ...data, retryAfterSec: Number.isFinite(retryAfter) ? retryAfter : null } };
    },
    failed: said,
    refused: said,
    other: (err) => ({ message: err instanceof Error ? err.message : String(err) }),
  };
}
