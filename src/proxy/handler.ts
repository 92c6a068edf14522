/**
 * The proxy as a standard fetch handler (Request → Response) on the shared Hono layer (src/http), so the same
 * code runs behind node:http (src/proxy/node.ts), in Cloudflare Workers, Deno, Bun or an edge function (see
 * docs/proxy.md).
 *
 * Endpoints: GET /health, GET /v1/models, POST /chat, POST /chat/reset, POST /v1/chat/completions.
 * Errors are OpenAI-shaped JSON (`{error: {message, type, param, code}}`) so the `openai` SDK surfaces them.
 */
import type { Context } from 'hono';
import { APIConnectionError, APIError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { createHttpApp, route, type HttpApp, type HttpEnv } from '../http/app';
import { clientAddress, clientKey } from '../http/client';
import { HttpError, jsonResponse, type ErrorBody } from '../http/errors';
import { addApiDocs, DOC_ENDPOINTS } from '../http/openapi';
import { proxyOperations } from './openapi';
import { hostAllowlist } from '../http/hosts';
import type { AnswerFacts, MetricsEndpoint, ServerObserver } from '../http/metrics';
import { createRateLimiter, tooManyRequests } from '../http/rate-limit';
import type { ProxyConfig } from './config';
import { createUpstream, redact, toFailure, UpstreamFailure, type Upstream } from './upstream';
import { completionBodyLimit, readJsonBody, validateChat, validateCompletion, type ValidationFailure } from './validate';

export interface ProxyDeps {
  /** Replaces the real OpenAI client (tests use the real one against a fake server instead). */
  upstream?: Upstream;
  /** Where upstream failures are reported, already redacted. Default: nowhere. */
  log?: (line: string) => void;
  now?: () => number;
  /** Host names answered besides the configured ones (the Node entry's machine names on a wildcard bind). */
  extraHosts?: string[];
  /**
   * Told of requests, answers and upstream retries and failures. Optional and an interface only, so this file
   * stays free of prom-client: src/proxy/node.ts injects src/node/metrics.ts; an edge deployment may pass its own.
   */
  observer?: ServerObserver;
  /** GET /metrics on this app (src/proxy/node.ts decides where and for whom); absent: a 404. */
  metrics?: { endpoint: MetricsEndpoint; token: string | null };
}

/**
 * What the runtime knows about the caller; the rate limit is keyed by `address` (or, when that is a proxy
 * listed in GLIMPSE_TRUSTED_PROXIES, by the client its X-Forwarded-For names).
 */
export interface ClientInfo {
  address?: string;
}

export type ProxyHandler = (req: Request, client?: ClientInfo) => Promise<Response>;

const ENDPOINTS = ['GET /health', 'GET /v1/models', 'POST /chat', 'POST /chat/reset', 'POST /v1/chat/completions', ...DOC_ENDPOINTS];

const invalid = (v: ValidationFailure): HttpError => new HttpError({
  status: v.status, type: 'invalid_request_error', message: v.message, param: v.param, code: v.code,
});

function failed(f: UpstreamFailure): ErrorBody {
  return {
    status: f.status, type: f.type, message: f.message, code: f.upstream.code, param: f.upstream.param,
    ...(f.retryAfterSec === undefined ? {} : { headers: { 'retry-after': String(f.retryAfterSec) } }),
  };
}

/** Puts the proxy's system prompt first unless the client sent its own. */
function withSystemPrompt(messages: ChatCompletionMessageParam[], config: ProxyConfig): ChatCompletionMessageParam[] {
  const hasSystem = messages.some((m) => m.role === 'system' || m.role === 'developer');
  return hasSystem ? messages : [{ role: 'system', content: config.systemPrompt }, ...messages];
}

const encoder = new TextEncoder();
const sse = (value: unknown) => encoder.encode(`data: ${JSON.stringify(value)}\n\n`);
const DONE = encoder.encode('data: [DONE]\n\n');


function streamFailure(err: unknown, config: ProxyConfig): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  if (err instanceof APIError && !(err instanceof APIConnectionError)) {
    return err.status === undefined
      ? new UpstreamFailure(502, 'upstream_error', 'The model server reported an error in the middle of an answer.', 1)
      : toFailure(err, 1, config);
  }
  return new UpstreamFailure(502, 'upstream_dropped', 'The model server closed the connection in the middle of an answer.', 1);
}

/** What a streamed answer tells the metrics: each chunk as it passes, and its end. */
interface StreamWatch {
  chunk(c: ChatCompletionChunk): void;
  end(): void;
}

/** Re-encodes upstream chunks as SSE; a failure mid-answer becomes an `error` event (the SDK throws it). */
function sseBody(chunks: AsyncIterable<ChatCompletionChunk>, signal: AbortSignal,
  onFailure: (err: unknown) => UpstreamFailure, watch?: StreamWatch): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const next = await it.next();
        if (next.done) {
          watch?.end();
          ctrl.enqueue(DONE.slice());
          ctrl.close();
        } else {
          watch?.chunk(next.value);
          ctrl.enqueue(sse(next.value));
        }
      } catch (err) {
        if (signal.aborted) return ctrl.close();
        const f = onFailure(err);
        ctrl.enqueue(sse({ error: { message: f.message, type: f.type, param: null, code: String(f.status) } }));
        ctrl.close();
      }
    },
    async cancel() {
      await it.return?.();
    },
  });
}

const usageFacts = (u: { prompt_tokens?: number; completion_tokens?: number } | null | undefined): AnswerFacts =>
  (u ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens } : {});

/** Times a streamed answer (first content, end) and reads its usage chunk, for the metrics. */
function streamWatch(observer: ServerObserver, started: number, messages: number): StreamWatch {
  let ttftSeconds: number | undefined;
  let usage: AnswerFacts = {};
  return {
    chunk(c) {
      if (ttftSeconds === undefined && c.choices.some((ch) => ch.delta?.content)) ttftSeconds = (performance.now() - started) / 1000;
      if (c.usage) usage = usageFacts(c.usage);
    },
    end: () => observer.answer({ ...usage, ttftSeconds, totalSeconds: (performance.now() - started) / 1000, messages }),
  };
}

/** The proxy's Hono app. `config` is already validated (see loadConfig). */
export function createProxyApp(config: ProxyConfig, deps: ProxyDeps = {}): HttpApp {
  const observer = deps.observer;
  const upstream = deps.upstream ?? createUpstream(config, {
    onRetry: (reason) => observer?.upstreamRetry(reason),
    onAttemptFailed: (status) => observer?.upstreamError(status),
  });
  const log = (line: string) => deps.log?.(redact(line, config.apiKey));
  const limiter = createRateLimiter(config.rateLimit, deps.now ?? Date.now);
  const answered = (started: number, messages: number, u?: Parameters<typeof usageFacts>[0]) =>
    observer?.answer({ ...usageFacts(u), totalSeconds: (performance.now() - started) / 1000, messages });
  const report = (path: string, f: UpstreamFailure) => {
    if (f.status !== 499) log(`upstream ${path}: ${f.status} ${f.type} attempts=${f.attempts}`);
  };
  const failure = (path: string, err: unknown) => {
    const f = toFailure(err, 1, config); // an UpstreamFailure already is one
    report(path, f);
    return new HttpError(failed(f));
  };

  const app = createHttpApp({
    hosts: hostAllowlist(config.allowedHosts, config.host, deps.extraHosts),
    origins: config.allowedOrigins,
    hostsSetting: 'GLIMPSE_ALLOWED_HOSTS',
    originsSetting: 'GLIMPSE_ALLOWED_ORIGINS',
    corsMethods: ['GET', 'POST', 'OPTIONS'],
    endpoints: deps.metrics ? [...ENDPOINTS, 'GET /metrics'] : ENDPOINTS,
    log,
    ...(observer ? { observer } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  const limited = async (c: Context<HttpEnv>, next: () => Promise<void>) => {
    const wait = limiter(clientKey(clientAddress(c.env?.address, c.req.header('x-forwarded-for'), config.trustedProxies)));
    if (wait > 0) {
      observer?.rateLimited('client');
      throw tooManyRequests({ code: 'RateLimitedError', waitSec: wait,
        message: `Too many requests from this client (GLIMPSE_RATE_LIMIT); try again in ${wait} s.` });
    }
    await next();
  };
  const json = async (c: Context<HttpEnv>, maxBytes = config.limits.maxBodyBytes) => {
    const body = await readJsonBody(c.req.raw, maxBytes);
    if (!body.ok) throw invalid(body.error);
    return body.value;
  };

  route(app, '/health', { GET: (c) => c.json({ status: 'ok', default_model: config.defaultModel, models: config.allowedModels,
    image_models: config.imageModels, default_model_reads_images: config.imageModels.includes(config.defaultModel) }) });
  route(app, '/v1/models', {
    GET: (c) => c.json({ object: 'list', data: config.allowedModels.map((id) => ({ id, object: 'model', created: 0, owned_by: 'glimpse-proxy' })) }),
  });
  addApiDocs(app, {
    title: 'Glimpse proxy', version: '0.1.0',
    description: 'An OpenAI proxy for Glimpse: the key stays here; the models, limits and image rules are this instance’s. ' +
      'Errors are OpenAI’s {"error": {message, type, param, code}}. See docs/proxy.md.',
  }, proxyOperations(config, deps.metrics !== undefined));
  route(app, '/chat/reset', { POST: (c) => c.json({ message: 'Conversation history reset', conversation_history: [] }) });

  route(app, '/chat', { POST: [limited, async (c) => {
    const v = validateChat(await json(c), config);
    if (!v.ok) throw invalid(v.error);
    const { message, history, temperature, model } = v.value;
    const messages = withSystemPrompt([...history, { role: 'user', content: message }], config);
    const started = performance.now();
    try {
      const completion = await upstream.complete({
        model, messages, max_tokens: config.limits.maxTokens, ...(temperature === undefined ? {} : { temperature }),
      }, c.req.raw.signal);
      const response = completion.choices[0]?.message.content ?? '';
      const finish = completion.choices[0]?.finish_reason;
      answered(started, history.length + 2, completion.usage);
      return jsonResponse(200, {
        response,
        conversation_history: [...history, { role: 'user', content: message }, { role: 'assistant', content: response }],
        model_used: completion.model || model,
        // 'length': GLIMPSE_MAX_TOKENS cut the answer (OpenAI's finish_reason, passed on).
        ...(finish === 'length' || finish === 'stop' ? { finish_reason: finish } : {}),
      });
    } catch (err) {
      throw failure('/chat', err);
    }
  }] });

  route(app, '/v1/chat/completions', { POST: [limited, async (c) => {
    const v = validateCompletion(await json(c, completionBodyLimit(config)), config);
    if (!v.ok) throw invalid(v.error);
    const { stream, include_usage, ...rest } = v.value;
    const params = { ...rest, messages: withSystemPrompt(rest.messages, config) };
    const signal = c.req.raw.signal;
    const started = performance.now();
    const messages = rest.messages.length + 1;
    try {
      if (!stream) {
        const completion = await upstream.complete({ ...params, stream: false }, signal);
        answered(started, messages, completion.usage);
        return jsonResponse(200, completion);
      }
      const chunks = await upstream.stream({
        ...params, stream: true, ...(include_usage ? { stream_options: { include_usage: true } } : {}),
      }, signal);
      const body = sseBody(chunks, signal, (err) => {
        const f = streamFailure(err, config);
        report('/v1/chat/completions (stream)', f);
        observer?.upstreamError(null);
        return f;
      }, observer ? streamWatch(observer, started, messages) : undefined);
      return new Response(body, { status: 200, headers: {
        'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' } });
    } catch (err) {
      throw failure('/v1/chat/completions', err);
    }
  }] });
  return app;
}

/** The proxy as a plain fetch handler: `client.address` keys the rate limit. */
export function createProxyHandler(config: ProxyConfig, deps: ProxyDeps = {}): ProxyHandler {
  const app = createProxyApp(config, deps);
  return async (req, client = {}) => app.fetch(req, { address: client.address });
}
