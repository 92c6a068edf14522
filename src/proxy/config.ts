/**
 * Proxy configuration from the environment. Everything the proxy does is decided here, once, at start:
 * the handler never reads `process.env` itself, so it runs unchanged where there is no `process`
 * (Cloudflare Workers, Deno, edge functions) when given a config built from that platform's bindings.
 */

/** Environment as a plain record: `process.env`, a Workers `env` binding, or `Deno.env.toObject()`. */
export type { Env } from '../http/env';
import type { Env } from '../http/env';
import { envList, intReader } from '../http/env';
import { GlimpseError } from '../errors';
import { readTrustedProxies } from '../http/client';
import { readMetricsSettings, type MetricsSettings } from '../http/metrics';
import { readsImagesByName } from '../remote/image-models';

export interface ProxyLimits {
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Longest message text (the `message` of /chat and each history or /v1 message), in characters. */
  maxMessageChars: number;
  /** Most history messages (/chat) or messages (/v1) in one request. */
  maxMessages: number;
  /** Upper bound on `max_tokens` sent upstream; larger requests are clamped, absent ones get this value. */
  maxTokens: number;
  /** Largest image accepted (decoded bytes of its data URL); a /v1 body may be this much larger (base64). */
  maxImageBytes: number;
}

export interface ProxyConfig {
  /** The OpenAI key. Only ever used to build the upstream client; never logged or echoed. */
  apiKey: string;
  /** Any OpenAI-compatible server; undefined = api.openai.com. */
  baseURL: string | undefined;
  defaultModel: string;
  /** Always contains `defaultModel`. */
  allowedModels: string[];
  /** The allowed models that read images (GLIMPSE_IMAGE_MODELS; unset: the GPT-4o family by name). */
  imageModels: string[];
  systemPrompt: string;
  /** Exact origins allowed by CORS; `*` allows any. Requests without an Origin header (CLI, curl) pass. */
  allowedOrigins: string[];
  /**
   * Host names answered besides the loopback names (DNS rebinding); `*` = any. Empty: the bind address, and
   * on a wildcard bind the machine's own names (added by the Node entry). An edge deployment lists its host.
   */
  allowedHosts: string[];
  rateLimit: { max: number; windowMs: number };
  /** Proxies in front whose X-Forwarded-For names the client (GLIMPSE_TRUSTED_PROXIES); none by default. */
  trustedProxies: string[];
  /** Where GET /metrics is answered (GLIMPSE_METRICS_PORT, GLIMPSE_METRICS_TOKEN; src/http/metrics.ts). */
  metrics: MetricsSettings;
  host: string;
  port: number;
  /** Upstream time limit per attempt (headers for streams; then the same limit between chunks). */
  timeoutMs: number;
  retry: {
    maxRetries: number;
    /** First backoff delay; doubles each retry, with up to 25% jitter taken off. */
    baseDelayMs: number;
    maxDelayMs: number;
    /** A retry-after longer than this is not waited for: the 429 goes back to the client with it. */
    maxRetryAfterMs: number;
  };
  limits: ProxyLimits;
}

export const DEFAULT_SYSTEM_PROMPT =
  'You are Glimpse, a poster-design assistant. Help people plan and critique posters: layout and visual ' +
  'hierarchy, typography and type pairing, colour and contrast, imagery, spacing, and print or screen ' +
  'formats. Give concrete, practical suggestions and keep answers short unless asked for more detail.';

export const DEFAULT_ORIGINS = [
  'http://127.0.0.1:5173',
  'http://localhost:5173',
  'http://127.0.0.1:4173',
  'http://localhost:4173',
];

/** Thrown when the environment cannot make a working proxy; the message lists every problem at once. */
export class ProxyConfigError extends GlimpseError {
  static override readonly errorName = 'ProxyConfigError';
  constructor(readonly problems: string[]) {
    super(`The proxy cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { problems });
  }
}

/** Builds a {@link ProxyConfig} from environment variables (see docs/proxy.md for the table). */
export function loadConfig(env: Env): ProxyConfig {
  const problems: string[] = [];
  const int = intReader(env, problems);

  const apiKey = env.OPENAI_API_KEY?.trim() ?? '';
  if (apiKey === '') {
    problems.push('OPENAI_API_KEY is missing: set it to your OpenAI API key (it stays on this server).');
  }
  const baseURL = env.OPENAI_BASE_URL?.trim() || undefined;
  if (baseURL !== undefined && !/^https?:\/\/[^\s]+$/.test(baseURL)) {
    problems.push(`OPENAI_BASE_URL must be an http(s) URL (got "${baseURL}")`);
  }
  const defaultModel = env.GLIMPSE_DEFAULT_MODEL?.trim() || 'gpt-4o-mini';
  const allowedModels = [defaultModel, ...envList(env.GLIMPSE_ALLOWED_MODELS).filter((m) => m !== defaultModel)];
  const imageModels = readImageModels(env.GLIMPSE_IMAGE_MODELS, allowedModels);
  const origins = env.GLIMPSE_ALLOWED_ORIGINS === undefined ? DEFAULT_ORIGINS : envList(env.GLIMPSE_ALLOWED_ORIGINS);

  const config: ProxyConfig = {
    apiKey,
    baseURL,
    defaultModel,
    allowedModels,
    imageModels,
    systemPrompt: env.GLIMPSE_SYSTEM_PROMPT?.trim() || DEFAULT_SYSTEM_PROMPT,
    allowedOrigins: origins.map((o) => o.replace(/\/+$/, '')),
    allowedHosts: envList(env.GLIMPSE_ALLOWED_HOSTS),
    rateLimit: {
      max: int('GLIMPSE_RATE_LIMIT', 30, 1, 1_000_000),
      windowMs: int('GLIMPSE_RATE_WINDOW_MS', 60_000, 100, 86_400_000),
    },
    trustedProxies: readTrustedProxies(env.GLIMPSE_TRUSTED_PROXIES, problems),
    metrics: readMetricsSettings(env, problems),
    host: env.HOST?.trim() || '127.0.0.1',
    port: int('PORT', 8787, 0, 65_535),
    timeoutMs: int('GLIMPSE_UPSTREAM_TIMEOUT_MS', 60_000, 10, 600_000),
    retry: {
      maxRetries: int('GLIMPSE_MAX_RETRIES', 2, 0, 10),
      baseDelayMs: int('GLIMPSE_RETRY_BASE_MS', 500, 0, 60_000),
      maxDelayMs: int('GLIMPSE_RETRY_MAX_MS', 8_000, 0, 600_000),
      maxRetryAfterMs: int('GLIMPSE_MAX_RETRY_AFTER_MS', 20_000, 0, 600_000),
    },
    limits: {
      maxBodyBytes: int('GLIMPSE_MAX_BODY_BYTES', 256 * 1024, 1024, 50 * 1024 * 1024),
      maxMessageChars: int('GLIMPSE_MAX_MESSAGE_CHARS', 16_000, 1, 1_000_000),
      maxMessages: int('GLIMPSE_MAX_MESSAGES', 100, 1, 10_000),
      maxTokens: int('GLIMPSE_MAX_TOKENS', 1024, 1, 128_000),
      maxImageBytes: int('GLIMPSE_MAX_IMAGE_BYTES', 5 * 1024 * 1024, 1024, 20 * 1024 * 1024),
    },
  };
  if (problems.length > 0) throw new ProxyConfigError(problems);
  return config;
}

/**
 * GLIMPSE_IMAGE_MODELS: unset = the allowed models whose name is of the GPT-4o family; `*` = every allowed
 * model; `none` or empty = none; otherwise a comma list (of allowed models; others could not be asked for).
 */
function readImageModels(raw: string | undefined, allowed: string[]): string[] {
  if (raw === undefined) return allowed.filter(readsImagesByName);
  const list = envList(raw);
  if (list.includes('*')) return [...allowed];
  return allowed.filter((m) => list.includes(m));
}
