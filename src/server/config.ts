/**
 * Configuration of the headless REST server (`npm run api`) from the environment, decided once at start.
 * See docs/rest-api.md for the table.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ImageDetail } from '../chat/backend';
import type { DtypeMap, ModelSource } from '../engine/protocol';
import { GlimpseError } from '../errors';
import { API_DTYPES, DEFAULT_API_DTYPE, dtypesFor, isApiDtype, type ApiDtype } from './dtypes';

export type { Env } from '../http/env';
import type { Env } from '../http/env';
import { envList, intReader } from '../http/env';
import { readTrustedProxies } from '../http/client';
import { readMetricsSettings, type MetricsSettings } from '../http/metrics';

export interface ApiConfig {
  host: string;
  port: number;
  /** Where sessions and images are kept (created if missing). */
  dataDir: string;
  /** The model id: a hub id, or the folder name under a local model root. */
  model: string;
  source: ModelSource;
  /** Requests that may wait while one generates; one more is answered 503. */
  queueSize: number;
  /** Largest image accepted, in bytes (the whole request may be 1 MiB more, for the text fields). */
  maxUploadBytes: number;
  maxNewTokens: number;
  imageDetail: ImageDetail;
  systemPrompt: string;
  /** Browser origins allowed to call the API (CORS). Empty: only clients that send no Origin (curl, scripts). */
  allowedOrigins: string[];
  /**
   * Host names answered besides the loopback names (DNS rebinding); `*` = any. Empty: the bind address, and
   * on a wildcard bind (HOST=0.0.0.0) the machine's own names and addresses.
   */
  allowedHosts: string[];
  /** Requests per client address and POST /chat turns per session, per window; 0 = no limit (docs/rest-api.md). */
  rateLimit: { perClient: number; perSession: number; windowMs: number };
  /** Proxies in front whose X-Forwarded-For names the client (GLIMPSE_TRUSTED_PROXIES); none by default. */
  trustedProxies: string[];
  /** Where GET /metrics is answered (GLIMPSE_METRICS_PORT, GLIMPSE_METRICS_TOKEN). */
  metrics: MetricsSettings;
  /** DATABASE_URL: sessions in PostgreSQL (shared by every instance on it) instead of files in dataDir. */
  databaseUrl: string | null;
  /** Memory for the KV caches of recent sessions (GLIMPSE_KV_CACHE_MB), least recently used evicted. */
  kvCacheMB: number;
  /** ONNX Runtime's CPU memory arena (GLIMPSE_ORT_ARENA=on): it keeps a long prompt's peak memory for good. */
  ortArena: boolean;
  /** The local engine's ONNX files (GLIMPSE_DTYPE), by name and as the per-file map it loads. */
  dtype: ApiDtype;
  dtypes: DtypeMap;
  /** Who answers: SmolVLM in this process (the default), or an OpenAI-compatible inference server. */
  engine: EngineConfig;
}

/** GLIMPSE_ENGINE=openai: answers from llama.cpp's llama-server, vLLM or any OpenAI-compatible server. */
export interface OpenAIEngineConfig {
  kind: 'openai';
  /** The server's API base, ending in /v1 (GLIMPSE_ENGINE_URL; /v1 is added when missing). */
  baseURL: string;
  /** The model name sent with each request (GLIMPSE_ENGINE_MODEL). */
  model: string;
  /** GLIMPSE_ENGINE_KEY, for a server started with --api-key; never logged nor shown. */
  apiKey: string;
  /** Per attempt: until the answer starts, then the longest silence between two chunks. */
  timeoutMs: number;
  /** Attempts after the first, for timeouts, dropped connections, 408/409/429/5xx. */
  maxRetries: number;
}

export type EngineConfig = { kind: 'local' } | OpenAIEngineConfig;

export const DEFAULT_MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';

/** Thrown when the environment cannot make a working server; the message lists every problem at once. */
export class ApiConfigError extends GlimpseError {
  static override readonly errorName = 'ApiConfigError';
  constructor(readonly problems: string[]) {
    super(`The REST API cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { problems });
  }
}

/**
 * MODEL_PATH is a root folder laid out as `{owner}/{name}/` (what `npm run make-test-model` writes under
 * `.models/tiny`), with MODEL_ID picking the model; or the model's own folder (it holds config.json).
 */
function localModel(path: string, modelId: string, problems: string[]): { model: string; source: ModelSource } {
  const root = resolve(path);
  if (existsSync(join(root, modelId, 'config.json'))) {
    return { model: modelId, source: { kind: 'local', localModelPath: root } };
  }
  if (existsSync(join(root, 'config.json'))) {
    return { model: basename(root), source: { kind: 'local', localModelPath: dirname(root) } };
  }
  problems.push(
    `MODEL_PATH=${path} holds no model: expected ${join(root, modelId, 'config.json')} ` +
      `(a root laid out as {owner}/{name}/, with MODEL_ID=${modelId}) or ${join(root, 'config.json')}.`,
  );
  return { model: modelId, source: { kind: 'local', localModelPath: root } };
}

/** The engine settings; problems (a missing URL or model, a bad URL) are added to `problems`. */
function engineConfig(env: Env, problems: string[], int: ReturnType<typeof intReader>): EngineConfig {
  const kind = env.GLIMPSE_ENGINE?.trim().toLowerCase() || 'local';
  if (kind !== 'openai') {
    if (kind !== 'local') problems.push(`GLIMPSE_ENGINE must be local or openai (got "${kind}")`);
    return { kind: 'local' };
  }
  const url = env.GLIMPSE_ENGINE_URL?.trim() ?? '';
  const model = env.GLIMPSE_ENGINE_MODEL?.trim() ?? '';
  if (!url) problems.push('GLIMPSE_ENGINE=openai needs GLIMPSE_ENGINE_URL, the inference server (e.g. http://127.0.0.1:8080)');
  else if (!validHttpUrl(url)) problems.push(`GLIMPSE_ENGINE_URL must be an http(s) URL such as http://127.0.0.1:8080 (got "${url}")`);
  if (!model) {
    problems.push('GLIMPSE_ENGINE=openai needs GLIMPSE_ENGINE_MODEL, the model name the server answers to ' +
      '(e.g. HuggingFaceTB/SmolVLM-256M-Instruct)');
  }
  const base = url.replace(/\/+$/, '');
  return {
    kind: 'openai',
    baseURL: /\/v1$/.test(base) ? base : `${base}/v1`,
    model,
    apiKey: env.GLIMPSE_ENGINE_KEY?.trim() ?? '',
    timeoutMs: int('GLIMPSE_ENGINE_TIMEOUT_MS', 300_000, 100, 3_600_000),
    maxRetries: int('GLIMPSE_ENGINE_RETRIES', 2, 0, 10),
  };
}

function validHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !u.search && !u.hash;
  } catch {
    return false;
  }
}

export function loadApiConfig(env: Env): ApiConfig {
  const problems: string[] = [];
  const int = intReader(env, problems);

  const engine = engineConfig(env, problems, int);
  const modelId = env.MODEL_ID?.trim() || DEFAULT_MODEL;
  let model = engine.kind === 'openai' ? engine.model : modelId;
  let source: ModelSource = { kind: 'hub' };
  // The model's files matter only to the local engine: an inference server has its own.
  const modelPath = engine.kind === 'local' ? env.MODEL_PATH?.trim() : undefined;
  const modelHost = engine.kind === 'local' ? env.GLIMPSE_MODEL_HOST?.trim() : undefined;
  if (modelPath) {
    ({ model, source } = localModel(modelPath, modelId, problems));
  } else if (modelHost) {
    if (!/^https?:\/\/\S+$/.test(modelHost)) problems.push(`GLIMPSE_MODEL_HOST must be an http(s) URL (got "${modelHost}")`);
    source = { kind: 'hub', remoteHost: modelHost.endsWith('/') ? modelHost : `${modelHost}/` };
  }

  const detail = env.GLIMPSE_IMAGE_DETAIL?.trim() || 'auto';
  if (detail !== 'low' && detail !== 'auto' && detail !== 'high') {
    problems.push(`GLIMPSE_IMAGE_DETAIL must be low, auto or high (got "${detail}")`);
  }

  const arena = env.GLIMPSE_ORT_ARENA?.trim().toLowerCase() || 'off';
  if (arena !== 'on' && arena !== 'off') problems.push(`GLIMPSE_ORT_ARENA must be on or off (got "${arena}")`);

  const dtype = env.GLIMPSE_DTYPE?.trim().toLowerCase() || DEFAULT_API_DTYPE;
  if (!isApiDtype(dtype)) {
    problems.push(`GLIMPSE_DTYPE must be one of ${Object.keys(API_DTYPES).join(', ')} (got "${dtype}"; see docs/engine.md)`);
  }

  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl && !/^postgres(ql)?:\/\/\S+$/.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL (e.g. postgres://user:password@host:5432/glimpse)');
  }

  const config: ApiConfig = {
    host: env.HOST?.trim() || '127.0.0.1',
    port: int('PORT', 8002, 0, 65_535),
    dataDir: resolve(env.DATA_DIR?.trim() || '.data'),
    databaseUrl,
    model,
    source,
    queueSize: int('GLIMPSE_API_QUEUE', 8, 0, 1_000),
    maxUploadBytes: int('GLIMPSE_MAX_UPLOAD_BYTES', 20 * 1024 * 1024, 1024, 200 * 1024 * 1024),
    maxNewTokens: int('GLIMPSE_MAX_NEW_TOKENS', 512, 1, 8_192),
    kvCacheMB: int('GLIMPSE_KV_CACHE_MB', 1024, 0, 1_048_576),
    imageDetail: detail === 'low' || detail === 'high' ? detail : 'auto',
    systemPrompt: env.GLIMPSE_SYSTEM_PROMPT?.trim() ?? '',
    allowedOrigins: envList(env.GLIMPSE_API_ORIGINS).map((s) => s.replace(/\/+$/, '')),
    allowedHosts: envList(env.GLIMPSE_API_HOSTS),
    rateLimit: {
      perClient: int('GLIMPSE_RATE_PER_CLIENT', 600, 0, 1_000_000),
      perSession: int('GLIMPSE_RATE_PER_SESSION', 60, 0, 1_000_000),
      windowMs: int('GLIMPSE_RATE_WINDOW_MS', 60_000, 1_000, 86_400_000),
    },
    trustedProxies: readTrustedProxies(env.GLIMPSE_TRUSTED_PROXIES, problems),
    metrics: readMetricsSettings(env, problems),
    ortArena: arena === 'on',
    dtype: isApiDtype(dtype) ? dtype : DEFAULT_API_DTYPE,
    dtypes: dtypesFor(isApiDtype(dtype) ? dtype : DEFAULT_API_DTYPE),
    engine,
  };
  if (problems.length > 0) throw new ApiConfigError(problems);
  return config;
}
