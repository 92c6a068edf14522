/**
 * GET /metrics in Prometheus's text format with prom-client, one Registry per server (never the global
 * default: two servers in one process, as in tests, keep their own counts). Implements the portable
 * {@link ServerObserver} of src/http/metrics.ts; every label value comes from a fixed set (route patterns,
 * methods, statuses, reasons), so no client can make the series grow without bound.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AnswerFacts, MetricsEndpoint, ServerObserver } from '../http/metrics';

/** Readings taken at scrape time, for what the server knows and the metrics do not count themselves. */
export interface ServerGauges {
  /** Answers generating and requests waiting for the model (the REST API's queue). */
  queue?: () => { running: number; waiting: number };
  /** Sessions stored. */
  sessions?: () => Promise<number>;
}

export interface ServerMetricsOptions {
  gauges?: ServerGauges;
  /** A session counts as active this long after its last answer (default 5 minutes). */
  activeWindowMs?: number;
  now?: () => number;
  /** Process metrics (CPU, memory, event loop lag); default true. */
  processMetrics?: boolean;
}

export interface ServerMetrics {
  registry: Registry;
  observer: ServerObserver;
  endpoint: MetricsEndpoint;
}

const RETRY_REASONS = new Set(['rate_limited', 'server_error', 'timeout', 'connection', 'dropped']);
const retryReason = (r: string): string => (/^[1-5]\d\d$/.test(r) || RETRY_REASONS.has(r) ? r : 'other');
const statusLabel = (s: number | null): string => (s !== null && Number.isInteger(s) && s >= 100 && s <= 599 ? String(s) : 'none');

/** Sessions with an answer in the last `windowMs`, in last-seen order; at most `max` kept. */
function activeSessions(windowMs: number, now: () => number, max = 100_000) {
  const seen = new Map<string, number>();
  const prune = () => {
    const oldest = now() - windowMs;
    for (const [id, at] of seen) {
      if (at > oldest && seen.size <= max) break;
      seen.delete(id);
    }
  };
  return {
    touch(id: string) {
      seen.delete(id);
      seen.set(id, now());
      if (seen.size > max) prune();
    },
    count() {
      prune();
      return seen.size;
    },
  };
}

function httpMetrics(registers: Registry[]) {
  return {
    requests: new Counter({ name: 'glimpse_http_requests_total', help: 'Requests answered, by route pattern, method and status.',
      labelNames: ['route', 'method', 'status'] as const, registers }),
    duration: new Histogram({ name: 'glimpse_http_request_duration_seconds', help: 'Time to the response headers, by route pattern.',
      labelNames: ['route', 'method'] as const, registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] }),
    limited: new Counter({ name: 'glimpse_rate_limited_total', help: 'Requests refused with 429 by a rate limit, by which limit.',
      labelNames: ['limit'] as const, registers }),
  };
}

function answerMetrics(registers: Registry[]) {
  const seconds = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];
  return {
    ttft: new Histogram({ name: 'glimpse_time_to_first_token_seconds', help: 'Time from the start of generation to the first token.',
      buckets: seconds, registers }),
    total: new Histogram({ name: 'glimpse_answer_duration_seconds', help: 'Time to generate a whole answer.', buckets: seconds, registers }),
    promptTokens: new Counter({ name: 'glimpse_prompt_tokens_total', help: 'Prompt (input) tokens of answered turns.', registers }),
    completionTokens: new Counter({ name: 'glimpse_completion_tokens_total', help: 'Tokens generated (output).', registers }),
    cachedTokens: new Counter({ name: 'glimpse_cached_prompt_tokens_total', help: 'Prompt tokens served from the KV cache.', registers }),
    cacheTurns: new Counter({ name: 'glimpse_kv_cache_turns_total', help: 'Turns whose prompt did (hit) or did not (miss) resume from the KV cache.',
      labelNames: ['result'] as const, registers }),
    vision: new Counter({ name: 'glimpse_vision_total', help: 'Turns with an image in context, by how it was read: ran (the encoder), kv_cache, stored_features.',
      labelNames: ['result'] as const, registers }),
    messages: new Histogram({ name: 'glimpse_conversation_messages', help: 'Messages in the conversation of each answered turn.',
      buckets: [1, 2, 4, 8, 12, 16, 20, 32, 64, 128, 256], registers }),
    retries: new Counter({ name: 'glimpse_upstream_retries_total', help: 'Upstream attempts retried, by reason (rate_limited, server_error, timeout, connection, other).',
      labelNames: ['reason'] as const, registers }),
    upstreamErrors: new Counter({ name: 'glimpse_upstream_errors_total', help: 'Failed upstream attempts (retried or not), by upstream status (none: no HTTP answer).',
      labelNames: ['status'] as const, registers }),
  };
}

function sessionMetrics(registers: Registry[], gauges: ServerGauges, active: ReturnType<typeof activeSessions>) {
  const created = new Counter({ name: 'glimpse_sessions_created_total', help: 'Sessions created by a first message.', registers });
  new Gauge({ name: 'glimpse_sessions_active', help: 'Sessions with an answer in the last 5 minutes (this instance).', registers,
    collect() { this.set(active.count()); } });
  const count = gauges.sessions;
  if (count) {
    new Gauge({ name: 'glimpse_sessions', help: 'Sessions stored.', registers,
      async collect() { this.set(await count()); } });
  }
  const queue = gauges.queue;
  if (queue) {
    new Gauge({ name: 'glimpse_queue_waiting', help: 'Requests waiting for the model (uploading or queued).', registers,
      collect() { this.set(queue().waiting); } });
    new Gauge({ name: 'glimpse_queue_running', help: 'Answers being generated.', registers,
      collect() { this.set(queue().running); } });
  }
  return created;
}

function recordAnswer(m: ReturnType<typeof answerMetrics>, a: AnswerFacts): void {
  const count = (c: Counter, n: number | undefined) => {
    if (n !== undefined && Number.isFinite(n) && n > 0) c.inc(n);
  };
  if (a.ttftSeconds !== undefined && a.ttftSeconds >= 0) m.ttft.observe(a.ttftSeconds);
  if (a.totalSeconds !== undefined && a.totalSeconds >= 0) m.total.observe(a.totalSeconds);
  count(m.promptTokens, a.promptTokens);
  count(m.completionTokens, a.completionTokens);
  count(m.cachedTokens, a.cachedTokens);
  if (a.cachedTokens !== undefined) m.cacheTurns.inc({ result: a.cachedTokens > 0 ? 'hit' : 'miss' });
  if (a.vision !== undefined) m.vision.inc({ result: a.vision });
  if (a.messages !== undefined) m.messages.observe(a.messages);
}

export function createServerMetrics(opts: ServerMetricsOptions = {}): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const http = httpMetrics(registers);
  const answers = answerMetrics(registers);
  const active = activeSessions(opts.activeWindowMs ?? 5 * 60_000, opts.now ?? Date.now);
  const created = sessionMetrics(registers, opts.gauges ?? {}, active);
  const observer: ServerObserver = {
    request(route, method, status, seconds) {
      http.requests.inc({ route, method, status: statusLabel(status) });
      http.duration.observe({ route, method }, seconds);
    },
    rateLimited: (limit) => http.limited.inc({ limit }),
    answer(a) {
      recordAnswer(answers, a);
      if (a.newSession) created.inc();
      if (a.sessionId !== undefined) active.touch(a.sessionId);
    },
    upstreamRetry: (reason) => answers.retries.inc({ reason: retryReason(reason) }),
    upstreamError: (status) => answers.upstreamErrors.inc({ status: statusLabel(status) }),
  };
  return {
    registry,
    observer,
    endpoint: { scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }) },
  };
}
