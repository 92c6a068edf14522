/**
 * The headless REST API as a fetch handler (Request → Response); src/server/node.ts puts it on node:http.
 * The endpoints and JSON shapes are those of the REST server Glimpse replaces, answered by the same
 * ChatService the browser uses (20-message window, one image in context).
 *
 *   POST   /chat                     multipart or urlencoded form: message, image (file), session_id
 *   GET    /chat/history/{id}        DELETE /chat/history/{id}
 *   GET    /chat/sessions            GET /health
 *
 * Errors: `{"error": {"message", "type", "param", "code"}}` with a 4xx/5xx status; `code` is the named
 * error (e.g. EmptyMessageError), `param` the form field at fault or null.
 */
import type { ChatService } from '../chat/service';
import { inspectImage, type ImageLimits } from '../chat/images';
import type { ReplyDetails } from '../chat/messages';
import {
  EmptyMessageError,
  GenerationAbortedError,
  GlimpseError,
  ImageTooLargeError,
  ImageUnreadableError,
  InvalidSessionIdError,
  MessageTooLongError,
  ModelFilesMissingError,
  ModelLoadError,
  OutOfMemoryError,
  PromptTooLongError,
  SessionNotFoundError,
  StorageQuotaError,
  UnknownModelError,
  UnsupportedImageError,
} from '../errors';
import { validateSessionId, type SessionRepository } from '../storage/repository';
import type { ApiConfig } from './config';
import { GenerationQueue, QueueAbortedError, QueueFullError } from './queue';

export type ApiHandler = (req: Request) => Promise<Response>;

/** What /health reports about the model. */
export interface ModelStatus {
  readonly model: string;
  readonly state: 'idle' | 'loading' | 'ready' | 'error';
  readonly error: string | null;
}

export interface ApiDeps {
  service: ChatService;
  store: SessionRepository;
  queue: GenerationQueue;
  model: ModelStatus;
  imageLimits: ImageLimits;
  /** Server-side detail of unexpected failures (never sent to the client). */
  log?: (line: string) => void;
}

interface ErrorBody {
  status: number;
  type: string;
  message: string;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
}

/** Thrown inside the handler for a request it refuses; becomes the JSON error. */
class HttpError extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message);
  }
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

const ENDPOINTS = [
  'POST /chat',
  'GET /chat/history/{session_id}',
  'DELETE /chat/history/{session_id}',
  'GET /chat/sessions',
  'GET /health',
];

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

function errorResponse(e: ErrorBody, headers: Record<string, string> = {}): Response {
  return json(
    e.status,
    { error: { message: e.message, type: e.type, param: e.param ?? null, code: e.code ?? null } },
    { ...headers, ...e.headers },
  );
}

const invalid = (message: string, param: string | null, code: string, status = 400): HttpError =>
  new HttpError({ status, type: 'invalid_request_error', message, param, code });

/** Status and type for each named error the service, the store and the engine throw. */
function fromError(err: unknown): ErrorBody | null {
  if (err instanceof HttpError) return err.body;
  if (err instanceof QueueFullError) {
    return {
      status: 503, type: 'overloaded_error', message: err.message, code: 'QueueFullError',
      headers: { 'retry-after': String(err.retryAfterSec) },
    };
  }
  if (!(err instanceof GlimpseError)) return null;
  const is = (...classes: (typeof GlimpseError)[]) => classes.some((c) => err.name === c.errorName);
  const param = typeof err.data.field === 'string' ? err.data.field : null;
  const base = { message: err.message, code: err.name };
  if (is(EmptyMessageError, MessageTooLongError)) return { ...base, status: 400, type: 'invalid_request_error', param: param ?? 'message' };
  if (is(InvalidSessionIdError)) return { ...base, status: 400, type: 'invalid_request_error', param: 'session_id' };
  if (is(SessionNotFoundError)) return { ...base, status: 404, type: 'not_found_error', param: 'session_id' };
  if (is(UnsupportedImageError)) return { ...base, status: 415, type: 'invalid_request_error', param: 'image' };
  if (is(ImageTooLargeError)) return { ...base, status: 413, type: 'invalid_request_error', param: 'image' };
  if (is(ImageUnreadableError)) return { ...base, status: 422, type: 'invalid_request_error', param: 'image' };
  if (is(PromptTooLongError)) return { ...base, status: 422, type: 'invalid_request_error', param: 'message' };
  if (is(StorageQuotaError)) return { ...base, status: 507, type: 'storage_error' };
  if (is(ModelFilesMissingError, ModelLoadError, UnknownModelError, OutOfMemoryError)) {
    return { ...base, status: 503, type: 'model_unavailable_error' };
  }
  return null;
}

/** Reads at most `max` bytes of the body; more is a 413 (sent with `connection: close`, unread rest dropped). */
async function readBody(req: Request, max: number): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () =>
    new HttpError({
      status: 413, type: 'invalid_request_error', param: 'image', code: 'RequestTooLargeError',
      message: `The request is larger than the ${Math.round(max / 1024 / 1024) || 1} MB this server accepts. Send a smaller image.`,
      headers: { connection: 'close' },
    });
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (declared > max) throw tooLarge();
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) throw tooLarge();
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

interface ChatForm {
  message: string;
  image: Blob | null;
  sessionId: string | undefined;
}

async function readChatForm(req: Request, maxBody: number): Promise<ChatForm> {
  const type = (req.headers.get('content-type') ?? '').toLowerCase();
  if (!type.startsWith('multipart/form-data') && !type.startsWith('application/x-www-form-urlencoded')) {
    throw invalid(
      `POST /chat takes a form (multipart/form-data, as curl -F sends, or application/x-www-form-urlencoded); ` +
        `got ${type ? `"${type.split(';')[0]}"` : 'no content type'}.`,
      null, 'UnsupportedMediaTypeError', 415,
    );
  }
  const body = await readBody(req, maxBody);
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': req.headers.get('content-type') ?? '' } }).formData();
  } catch {
    throw invalid('The form could not be read: the multipart body is malformed or cut short.', null, 'MalformedFormError');
  }

  const messages = form.getAll('message');
  const message = messages[0];
  if (message === undefined) {
    throw invalid('The form has no "message" field: send the question as message=... (curl -F "message=Hello").', 'message', 'MissingFieldError');
  }
  if (typeof message !== 'string') throw invalid('"message" must be a text field, not a file.', 'message', 'InvalidFieldError');
  if (messages.length > 1) throw invalid('Send one "message" per request.', 'message', 'InvalidFieldError');

  const images = form.getAll('image');
  if (images.length > 1) throw invalid('Send at most one image per message.', 'image', 'InvalidFieldError');
  let image: Blob | null = null;
  const part = images[0];
  if (typeof part === 'string') {
    throw invalid('"image" must be a file upload (curl -F "image=@photo.jpg"), not a text field.', 'image', 'InvalidFieldError');
  }
  // A browser form with no file chosen sends an empty part with no file name: that is no image.
  if (part && !(part.size === 0 && part.name === '')) image = part;

  const sid = form.get('session_id');
  if (sid !== null && typeof sid !== 'string') throw invalid('"session_id" must be a text field.', 'session_id', 'InvalidFieldError');
  const sessionId = sid === null || sid.trim() === '' ? undefined : sid.trim();
  return { message, image, sessionId };
}

/** Host names the server answers to; anything else is a DNS-rebinding attempt from a web page. */
function allowedHosts(config: ApiConfig): Set<string> | null {
  if (config.host === '0.0.0.0' || config.host === '::') return null; // deliberately exposed: any name
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return new Set(['127.0.0.1', 'localhost', '[::1]', host.toLowerCase()]);
}

export function createApiHandler(config: ApiConfig, deps: ApiDeps): ApiHandler {
  const { service, store, queue, model } = deps;
  const log = deps.log ?? (() => undefined);
  const hosts = allowedHosts(config);
  const maxBody = config.maxUploadBytes + 1024 * 1024;

  async function chat(req: Request): Promise<Response> {
    const arrived = performance.now();
    const form = await readChatForm(req, maxBody);
    // Cheap checks before waiting in the queue: a bad request is refused at once, never after a wait.
    service.validateMessage(form.message, form.image !== null);
    if (form.image) await inspectImage(form.image, deps.imageLimits);
    if (form.sessionId !== undefined) await store.require(validateSessionId(form.sessionId));

    let assistantId = '';
    let startedAt = 0;
    const result = await queue.run(async () => {
      startedAt = performance.now();
      return service.chat({
        message: form.message,
        image: form.image,
        ...(form.sessionId !== undefined ? { session_id: form.sessionId } : {}),
        signal: req.signal,
        onSaved: ({ assistantMessage }) => {
          assistantId = assistantMessage.id;
        },
      });
    }, req.signal);

    const saved = (await store.messages(result.session_id)).find((m) => m.id === assistantId);
    const d: Partial<ReplyDetails> = saved?.details ?? {};
    const headers: Record<string, string> = {
      'x-glimpse-queue-ms': String(Math.round(startedAt - arrived)),
    };
    if (d.promptTokens !== undefined) headers['x-glimpse-prompt-tokens'] = String(d.promptTokens);
    if (d.cachedTokens !== undefined) headers['x-glimpse-cached-tokens'] = String(d.cachedTokens);
    if (d.visionRan !== undefined) headers['x-glimpse-vision-ran'] = String(d.visionRan);
    if (d.totalMs !== undefined) headers['x-glimpse-generation-ms'] = String(Math.round(d.totalMs));
    return json(200, result, headers);
  }

  async function route(req: Request, path: string): Promise<Response> {
    const method = req.method.toUpperCase();
    const only = (allowed: string[], run: () => Promise<Response>): Promise<Response> => {
      if (allowed.includes(method)) return run();
      throw new HttpError({
        status: 405, type: 'invalid_request_error', code: 'MethodNotAllowedError', param: null,
        message: `${method} is not allowed on ${path}; use ${allowed.join(' or ')}.`,
        headers: { allow: allowed.join(', ') },
      });
    };

    if (path === '/health') {
      return only(['GET'], async () =>
        json(200, {
          status: 'ok',
          model: model.model,
          model_state: model.state,
          ...(model.error ? { model_error: model.error } : {}),
          device: 'cpu',
          queue: { running: queue.busy ? 1 : 0, waiting: queue.waiting, max_waiting: queue.maxWaiting },
        }),
      );
    }
    if (path === '/chat') return only(['POST'], () => chat(req));
    if (path === '/chat/sessions') return only(['GET'], async () => json(200, await service.sessions()));
    const history = /^\/chat\/history\/([^/]*)$/.exec(path);
    if (history) {
      let id: string;
      try {
        id = decodeURIComponent(history[1]!);
      } catch {
        throw invalid('The session id in the path is not valid URL encoding.', 'session_id', 'InvalidSessionIdError');
      }
      return only(['GET', 'DELETE'], async () => json(200, method === 'GET' ? await service.history(id) : await service.clear(id)));
    }
    if (path === '/') return only(['GET'], async () => json(200, { name: 'Glimpse REST API', model: model.model, endpoints: ENDPOINTS }));
    throw new HttpError({
      status: 404, type: 'not_found_error', code: 'RouteNotFoundError', param: null,
      message: `There is no ${path}. Endpoints: ${ENDPOINTS.join(', ')}.`,
    });
  }

  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const origin = req.headers.get('origin');
    const cors: Record<string, string> = {};
    if (hosts && !hosts.has(url.host.replace(/:\d+$/, '').toLowerCase())) {
      return errorResponse({ status: 403, type: 'permission_error', code: 'HostNotAllowedError', message: `This server does not answer to host "${url.host}".` });
    }
    if (origin !== null) {
      if (!config.allowedOrigins.includes('*') && !config.allowedOrigins.includes(origin)) {
        return errorResponse({
          status: 403, type: 'permission_error', code: 'OriginNotAllowedError',
          message: `Web pages from ${origin} may not call this API (set GLIMPSE_API_ORIGINS to allow it).`,
        });
      }
      Object.assign(cors, { 'access-control-allow-origin': origin, vary: 'Origin' });
      if (req.method === 'OPTIONS') {
        return new Response(null, {
          status: 204,
          headers: { ...cors, 'access-control-allow-methods': 'GET, POST, DELETE', 'access-control-max-age': '600' },
        });
      }
    }
    try {
      const res = await route(req, url.pathname);
      for (const [k, v] of Object.entries(cors)) res.headers.set(k, v);
      return res;
    } catch (err) {
      if (err instanceof QueueAbortedError || (err instanceof GlimpseError && err.name === GenerationAbortedError.errorName)) {
        // The client went away; nobody reads this.
        return errorResponse({ status: 499, type: 'cancelled', code: 'ClientClosedRequest', message: 'The client closed the request.' }, cors);
      }
      const known = fromError(err);
      if (known) return errorResponse(known, cors);
      log(`unexpected failure on ${req.method} ${url.pathname}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return errorResponse({ status: 500, type: 'internal_error', code: 'InternalError', message: 'The server failed unexpectedly; see its log.' }, cors);
    }
  };
}
