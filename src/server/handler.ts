/**
 * The headless REST API as a Hono app on the shared HTTP layer (src/http: Host and Origin checks, CORS,
 * 404/405, JSON errors); src/server/node.ts puts it on node:http. The endpoints and JSON shapes are those of
 * the REST server Glimpse replaces, answered by the same ChatService the browser uses.
 *
 *   POST   /chat                     multipart or urlencoded form: message, image (file), session_id
 *   POST   /chat/sessions/{id}/continue  the last answer, cut at the token limit, goes on (same message)
 *   GET    /chat/history/{id}        DELETE /chat/history/{id} (clears it)
 *   GET    /chat/sessions            ?limit=&offset= pages; DELETE /chat/sessions/{id} (deletes it)
 *   GET    /health                   GET /
 *   GET    /openapi.json             GET /docs (the OpenAPI 3.1 document and its page, src/server/openapi.ts)
 *
 * Errors: `{"error": {"message", "type", "param", "code"}}` with a 4xx/5xx status; `code` is the named
 * error (e.g. EmptyMessageError), `param` the form field at fault or null.
 */
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { inspectImage, type ImageLimits } from '../chat/images';
import type { ChatResponse, TurnOptions } from '../chat/api';
import type { ReplyDetails } from '../chat/messages';
import type { ChatService } from '../chat/service';
import { createHttpApp, route, type HttpApp, type HttpEnv } from '../http/app';
import { invalid, jsonResponse } from '../http/errors';
import { hostAllowlist } from '../http/hosts';
import { addApiDocs, DOC_ENDPOINTS } from '../http/openapi';
import type { MetricsEndpoint, ServerObserver } from '../http/metrics';
import { validateSessionId, type SessionRepository } from '../chat/repository';
import type { ApiConfig } from './config';
import { fromError } from './errors';
import { readChatForm, requestTooLarge, type ChatForm } from './form';
import { createApiLimits } from './limits';
import { answerFacts } from './observe';
import { apiOperations } from './openapi';
import type { GenerationQueue } from './queue';

/** What /health reports about the model. */
export interface ModelStatus {
  readonly model: string;
  readonly state: 'idle' | 'loading' | 'ready' | 'error';
  readonly error: string | null;
  /** An inference server answering instead of the local engine (GLIMPSE_ENGINE=openai): never its key. */
  readonly engineInfo?: { kind: string; host: string; model: string; reachable?: boolean };
  /** Brings `state` up to date before /health reads it (the inference server is probed; cached briefly). */
  refresh?(): Promise<void>;
}

export interface ApiDeps {
  service: ChatService;
  store: SessionRepository & { delete(id: string): Promise<void> };
  queue: GenerationQueue;
  model: ModelStatus;
  imageLimits: ImageLimits;
  /** Longest message, in characters (the chat settings' maxMessageChars). */
  maxMessageChars: number;
  /** Server-side detail of unexpected failures (never sent to the client). */
  log?: (line: string) => void;
  /** Host names answered besides the configured ones (the machine's names on a wildcard bind). */
  extraHosts?: string[];
  /** Told of every request and answer (src/node/metrics.ts on Node). */
  observer?: ServerObserver;
  /** GET /metrics on this port (src/node/metrics-listener.ts decides); absent: a 404. */
  metrics?: { endpoint: MetricsEndpoint; token: string | null };
  /** The rate limits' clock (tests move it instead of waiting). */
  now?: () => number;
}

const ENDPOINTS = [
  'POST /chat',
  'POST /chat/sessions/{session_id}/continue',
  'GET /chat/history/{session_id}',
  'DELETE /chat/history/{session_id}',
  'GET /chat/sessions',
  'DELETE /chat/sessions/{session_id}',
  'GET /health',
  ...DOC_ENDPOINTS,
];

/** The body as a Node stream: the raw IncomingMessage on Node (no copy), the web stream elsewhere (tests). */
function bodyOf(c: Context<HttpEnv>): Readable {
  const incoming = c.env?.incoming;
  if (incoming instanceof Readable) return incoming;
  const body = c.req.raw.body ?? new ReadableStream<Uint8Array>({ start: (ctrl) => ctrl.close() });
  return Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);
}

function formType(c: Context<HttpEnv>): string {
  const type = c.req.header('content-type') ?? '';
  const lower = type.toLowerCase();
  if (lower.startsWith('multipart/form-data') || lower.startsWith('application/x-www-form-urlencoded')) return type;
  throw invalid(
    'POST /chat takes a form (multipart/form-data, as curl -F sends, or application/x-www-form-urlencoded); ' +
      `got ${type ? `"${type.split(';')[0]!.slice(0, 100)}"` : 'no content type'}.`,
    null, 'UnsupportedMediaTypeError', 415,
  );
}

function isSessionId(id: string): boolean {
  try {
    validateSessionId(id);
    return true;
  } catch {
    return false;
  }
}

/** ?limit (1–1000, default 100) and ?offset (default 0), as whole numbers. */
function page(c: Context<HttpEnv>): { limit: number; offset: number } {
  const read = (name: string, fallback: number, min: number, max: number): number => {
    const raw = c.req.query(name);
    if (raw === undefined) return fallback;
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw invalid(`"${name}" must be a whole number from ${min} to ${max}.`, name, 'InvalidFieldError');
    }
    return Number(raw);
  };
  return { limit: read('limit', 100, 1, 1000), offset: read('offset', 0, 0, 1e9) };
}

function detailHeaders(d: Partial<ReplyDetails>, queueMs: number): Record<string, string> {
  const headers: Record<string, string> = { 'x-glimpse-queue-ms': String(Math.round(queueMs)) };
  if (d.promptTokens !== undefined) headers['x-glimpse-prompt-tokens'] = String(d.promptTokens);
  if (d.cachedTokens !== undefined) headers['x-glimpse-cached-tokens'] = String(d.cachedTokens);
  if (d.visionRan !== undefined) headers['x-glimpse-vision-ran'] = String(d.visionRan);
  if (d.totalMs !== undefined) headers['x-glimpse-generation-ms'] = String(Math.round(d.totalMs));
  return headers;
}

export function createApiApp(config: ApiConfig, deps: ApiDeps): HttpApp {
  const { service, store, queue, model } = deps;
  const maxBody = config.maxUploadBytes + 1024 * 1024;
  const limits = { maxBody, maxImageBytes: config.maxUploadBytes, maxMessageChars: deps.maxMessageChars };
  const app = createHttpApp({
    hosts: hostAllowlist(config.allowedHosts, config.host, deps.extraHosts),
    origins: config.allowedOrigins,
    hostsSetting: 'GLIMPSE_API_HOSTS',
    originsSetting: 'GLIMPSE_API_ORIGINS',
    corsMethods: ['GET', 'POST', 'DELETE'],
    endpoints: deps.metrics ? [...ENDPOINTS, 'GET /metrics'] : ENDPOINTS,
    mapError: fromError,
    ...(deps.log ? { log: deps.log } : {}),
    ...(deps.observer ? { observer: deps.observer } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  const rate = createApiLimits(config, deps.now, deps.observer);
  /** The per-session limit, for ids that are ids (a malformed one is refused with its own error later). */
  const sessionTurn = (id: string) => {
    if (isSessionId(id)) rate.session(id);
  };

  /** Cheap checks first: a bad request is refused at once, never after reading a body or waiting. */
  async function admitAndRead(c: Context<HttpEnv>): Promise<{ form: ChatForm; place: ReturnType<GenerationQueue['admit']> }> {
    const type = formType(c);
    if (Number(c.req.header('content-length') ?? 0) > maxBody) throw requestTooLarge(maxBody);
    const place = queue.admit();
    try {
      const form = await readChatForm(bodyOf(c), type, limits, sessionTurn);
      service.validateMessage(form.message, form.image !== null);
      if (form.image) await inspectImage(form.image, deps.imageLimits);
      if (form.sessionId !== undefined) await store.require(validateSessionId(form.sessionId));
      return { form, place };
    } catch (err) {
      place.release();
      throw err;
    }
  }

  /**
   * One turn in the queue, with its place (taken before the body was read): the session's lock first, then
   * the model, so a turn waiting for another instance to finish its session keeps its place (counted as
   * waiting, so the queue stays bounded) but leaves the model to other sessions. Answers with the figures in
   * headers (the queue's time counted from `arrived`), told to the metrics.
   */
  async function runTurn(c: Context<HttpEnv>, turn: { arrived: number; place: ReturnType<GenerationQueue['admit']>; created: boolean },
    start: (opts: TurnOptions) => Promise<ChatResponse>): Promise<Response> {
    const { arrived, place, created } = turn;
    const signal = c.req.raw.signal;
    let assistantId = '';
    let startedAt = 0;
    const result = await start({
      signal,
      waitSignal: signal, // a client gone while it waits for the lock frees its place at once
      onSaved: ({ assistantMessage }) => (assistantId = assistantMessage.id),
      whenLocked: (turn) => queue.run(() => {
        startedAt = performance.now();
        return turn();
      }, signal, place),
    }).finally(() => place.release()); // refused or cancelled before its turn: the place goes back
    const saved = (await store.messages(result.session_id)).find((m) => m.id === assistantId);
    deps.observer?.answer(answerFacts(saved?.details ?? {}, result, created));
    return jsonResponse(200, result, detailHeaders(saved?.details ?? {}, startedAt - arrived));
  }

  async function chat(c: Context<HttpEnv>): Promise<Response> {
    const arrived = performance.now();
    const { form, place } = await admitAndRead(c);
    return runTurn(c, { arrived, place, created: form.sessionId === undefined }, (opts) => service.chat({
      ...opts,
      message: form.message,
      image: form.image,
      ...(form.sessionId !== undefined ? { session_id: form.sessionId } : {}),
    }));
  }

  /** POST /chat/sessions/{id}/continue: no body; the same queue and session lock as POST /chat. */
  async function continueAnswer(c: Context<HttpEnv>): Promise<Response> {
    const arrived = performance.now();
    const id = validateSessionId(c.req.param('id') ?? '');
    rate.session(id);
    await store.require(id);
    return runTurn(c, { arrived, place: queue.admit(), created: false }, (opts) => service.continueAnswer(id, opts));
  }

  route(app, '/health', {
    GET: async (c) => {
      await model.refresh?.();
      // An inference server that cannot answer makes this instance unable to: 503, for a load balancer. The local
      // engine loads on the next request, so a failed load is reported (model_state) but still 200.
      const down = model.engineInfo !== undefined && model.state !== 'ready';
      return c.json({
        status: down ? 'unavailable' : 'ok',
        model: model.model,
        model_state: model.state,
        ...(model.error ? { model_error: model.error } : {}),
        ...(model.engineInfo ? { engine: model.engineInfo } : { device: 'cpu' }),
        queue: { running: queue.busy ? 1 : 0, waiting: queue.waiting, max_waiting: queue.maxWaiting },
      }, down ? 503 : 200);
    },
  });
  route(app, '/', { GET: (c) => c.json({ name: 'Glimpse REST API', model: model.model, endpoints: ENDPOINTS }) });
  addApiDocs(app, {
    title: 'Glimpse REST API', version: '0.1.0',
    description: 'Vision chat with SmolVLM: sessions, history, one image in context. Errors are {"error": {message, type, param, code}}. See docs/rest-api.md.',
  }, apiOperations({ maxMessageChars: deps.maxMessageChars, maxImageBytes: config.maxUploadBytes, metrics: deps.metrics !== undefined }));
  route(app, '/chat', { POST: [rate.client, chat] });
  route(app, '/chat/sessions', {
    GET: [rate.client, async (c) => {
      const { limit, offset } = page(c);
      const all = await store.list();
      const next = offset + limit < all.length ? offset + limit : null;
      return jsonResponse(200, { sessions: all.slice(offset, offset + limit), total: all.length, limit, offset, next_offset: next });
    }],
  });
  route(app, '/chat/sessions/:id/continue', { POST: [rate.client, continueAnswer] });
  route(app, '/chat/sessions/:id', {
    DELETE: [rate.client, async (c) => {
      const id = validateSessionId(c.req.param('id') ?? '');
      await store.delete(id);
      return jsonResponse(200, { message: `Session ${id} deleted`, session_id: id, deleted: true });
    }],
  });
  route(app, '/chat/history/:id', {
    GET: [rate.client, async (c) => jsonResponse(200, await service.history(c.req.param('id') ?? ''))],
    DELETE: [rate.client, async (c) => jsonResponse(200, await service.clear(c.req.param('id') ?? ''))],
  });
  return app;
}
