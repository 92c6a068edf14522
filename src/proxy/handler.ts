/**
 * The proxy as a standard fetch handler (Request → Response), so the same code runs behind node:http
 * (src/proxy/node.ts), in Cloudflare Workers, Deno, Bun or an edge function (see docs/proxy.md).
 *
 * Endpoints: GET /health, GET /v1/models, POST /chat, POST /chat/reset, POST /v1/chat/completions.
 * Errors are OpenAI-shaped JSON (`{error: {message, type, param, code}}`) so the `openai` SDK surfaces them.
 */
import { APIConnectionError, APIError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ProxyConfig } from './config';
import { createUpstream, toFailure, UpstreamFailure, type Upstream } from './upstream';
import { readJsonBody, validateChat, validateCompletion, type ValidationFailure } from './validate';
import { createRateLimiter } from './rate-limit';

export interface ProxyDeps {
  /** Replaces the real OpenAI client (tests use the real one against a fake server instead). */
  upstream?: Upstream;
  /** Where upstream failures are reported, already redacted. Default: nowhere. */
  log?: (line: string) => void;
  now?: () => number;
}

/** What the runtime knows about the caller; the rate limit is keyed by `address`. */
export interface ClientInfo {
  address?: string;
}

export type ProxyHandler = (req: Request, client?: ClientInfo) => Promise<Response>;

interface ErrorBody {
  status: number;
  type: string;
  message: string;
  param?: string | null;
  code?: string | null;
  retryAfterSec?: number | undefined;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

function json(status: number, body: unknown, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

function errorResponse(e: ErrorBody, headers: Record<string, string>): Response {
  const extra: Record<string, string> = { ...headers };
  if (e.retryAfterSec !== undefined) extra['retry-after'] = String(e.retryAfterSec);
  return json(e.status, {
    error: { message: e.message, type: e.type, param: e.param ?? null, code: e.code ?? null },
  }, extra);
}

const invalid = (v: ValidationFailure): ErrorBody => ({
  status: v.status, type: 'invalid_request_error', message: v.message, param: v.param, code: v.code,
});
const failed = (f: UpstreamFailure): ErrorBody => ({
  status: f.status, type: f.type, message: f.message, retryAfterSec: f.retryAfterSec,
});

/** CORS headers for an allowed origin, {} when there is no Origin, null when the origin is refused. */
function cors(origin: string | null, config: ProxyConfig): Record<string, string> | null {
  if (origin === null) return {};
  const allowed = config.allowedOrigins.includes('*') || config.allowedOrigins.includes(origin);
  if (!allowed) return null;
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

/** Puts the proxy's system prompt first unless the client sent its own. */
function withSystemPrompt(messages: ChatCompletionMessageParam[], config: ProxyConfig): ChatCompletionMessageParam[] {
  const hasSystem = messages.some((m) => m.role === 'system' || m.role === 'developer');
  return hasSystem ? messages : [{ role: 'system', content: config.systemPrompt }, ...messages];
}

const encoder = new TextEncoder();
const sse = (value: unknown) => encoder.encode(`data: ${JSON.stringify(value)}\n\n`);
const DONE = encoder.encode('data: [DONE]\n\n');

/** Creates the proxy. `config` is already validated (see loadConfig). */
export function createProxyHandler(config: ProxyConfig, deps: ProxyDeps = {}): ProxyHandler {
  const upstream = deps.upstream ?? createUpstream(config);
  const log = deps.log ?? (() => undefined);
  const limiter = createRateLimiter(config.rateLimit, deps.now ?? Date.now);

  const report = (path: string, f: UpstreamFailure) => {
    if (f.status !== 499) log(`upstream ${path}: ${f.status} ${f.type} attempts=${f.attempts}`);
  };

  async function chat(req: Request, h: Record<string, string>): Promise<Response> {
    const body = await readJsonBody(req, config.limits.maxBodyBytes);
    if (!body.ok) return errorResponse(invalid(body.error), h);
    const v = validateChat(body.value, config);
    if (!v.ok) return errorResponse(invalid(v.error), h);
    const { message, history, temperature, model } = v.value;
    const messages = withSystemPrompt([...history, { role: 'user', content: message }], config);
    try {
      const completion = await upstream.complete({
        model, messages, max_tokens: config.limits.maxTokens, ...(temperature === undefined ? {} : { temperature }),
      }, req.signal);
      const response = completion.choices[0]?.message.content ?? '';
      return json(200, {
        response,
        conversation_history: [...history, { role: 'user', content: message }, { role: 'assistant', content: response }],
        model_used: completion.model || model,
      }, h);
    } catch (err) {
      const f = toFailure(err, 1, config);
      report('/chat', f);
      return errorResponse(failed(f), h);
    }
  }

  async function completions(req: Request, h: Record<string, string>): Promise<Response> {
    const body = await readJsonBody(req, config.limits.maxBodyBytes);
    if (!body.ok) return errorResponse(invalid(body.error), h);
    const v = validateCompletion(body.value, config);
    if (!v.ok) return errorResponse(invalid(v.error), h);
    const { stream, include_usage, ...rest } = v.value;
    const params = { ...rest, messages: withSystemPrompt(rest.messages, config) };
    try {
      if (!stream) return json(200, await upstream.complete({ ...params, stream: false }, req.signal), h);
      const chunks = await upstream.stream({
        ...params, stream: true, ...(include_usage ? { stream_options: { include_usage: true } } : {}),
      }, req.signal);
      return new Response(sseBody(chunks, req.signal), {
        status: 200,
        headers: { ...h, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store',
          'x-accel-buffering': 'no' },
      });
    } catch (err) {
      const f = toFailure(err, 1, config);
      report('/v1/chat/completions', f);
      return errorResponse(failed(f), h);
    }
  }

  function streamFailure(err: unknown): UpstreamFailure {
    if (err instanceof UpstreamFailure) return err;
    if (err instanceof APIError && !(err instanceof APIConnectionError)) {
      return err.status === undefined
        ? new UpstreamFailure(502, 'upstream_error', 'The model server reported an error in the middle of an answer.', 1)
        : toFailure(err, 1, config);
    }
    return new UpstreamFailure(502, 'upstream_dropped',
      'The model server closed the connection in the middle of an answer.', 1);
  }

  /** Re-encodes upstream chunks as SSE; a failure mid-answer becomes an `error` event (the SDK throws it). */
  function sseBody(chunks: AsyncIterable<ChatCompletionChunk>, signal: AbortSignal): ReadableStream<Uint8Array> {
    const it = chunks[Symbol.asyncIterator]();
    return new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        try {
          const next = await it.next();
          if (next.done) {
            ctrl.enqueue(DONE.slice());
            ctrl.close();
          } else {
            ctrl.enqueue(sse(next.value));
          }
        } catch (err) {
          if (signal.aborted) return ctrl.close();
          const f = streamFailure(err);
          report('/v1/chat/completions (stream)', f);
          ctrl.enqueue(sse({ error: { message: f.message, type: f.type, param: null, code: String(f.status) } }));
          ctrl.close();
        }
      },
      async cancel() {
        await it.return?.();
      },
    });
  }

  return async (req, client = {}) => {
    const url = new URL(req.url);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const h = cors(req.headers.get('origin'), config);
    if (h === null) {
      return errorResponse({ status: 403, type: 'forbidden_origin', param: 'origin',
        message: 'This origin is not allowed to use the proxy (see GLIMPSE_ALLOWED_ORIGINS).' }, {});
    }
    try {
      if (req.method === 'OPTIONS') {
        return new Response(null, { status: 204, headers: { ...h,
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': req.headers.get('access-control-request-headers') ?? 'content-type',
          'access-control-max-age': '600' } });
      }
      const route = `${req.method} ${path}`;
      if (route === 'GET /health') {
        return json(200, { status: 'ok', default_model: config.defaultModel, models: config.allowedModels }, h);
      }
      if (route === 'GET /v1/models') {
        return json(200, { object: 'list', data: config.allowedModels.map((id) =>
          ({ id, object: 'model', created: 0, owned_by: 'glimpse-proxy' })) }, h);
      }
      if (route === 'POST /chat/reset') {
        return json(200, { message: 'Conversation history reset', conversation_history: [] }, h);
      }
      if (route === 'POST /chat' || route === 'POST /v1/chat/completions') {
        const wait = limiter(client.address ?? 'unknown');
        if (wait > 0) {
          return errorResponse({ status: 429, type: 'rate_limited', retryAfterSec: wait,
            message: `Too many requests from this client; try again in ${wait} s.` }, h);
        }
        return route === 'POST /chat' ? await chat(req, h) : await completions(req, h);
      }
      const known = ['/health', '/v1/models', '/chat', '/chat/reset', '/v1/chat/completions'].includes(path);
      return errorResponse(known
        ? { status: 405, type: 'method_not_allowed', message: `${req.method} is not allowed on ${path}` }
        : { status: 404, type: 'not_found', message: `No such endpoint: ${path}` }, h);
    } catch {
      return errorResponse({ status: 500, type: 'internal_error', message: 'The proxy failed unexpectedly.' }, h);
    }
  };
}
