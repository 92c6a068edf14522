/**
 * Request validation for the proxy. Every rule answers with a 4xx and the name of the offending field
 * (`param`, as OpenAI's own errors do), so a client, the CLI or a person reading curl output knows what to fix.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { readLimitedText } from '../http/body';
import type { ProxyConfig, ProxyLimits } from './config';

export type HistoryRole = 'system' | 'user' | 'assistant';
/** One turn of a /chat conversation_history. */
export interface HistoryMessage {
  role: HistoryRole;
  content: string;
}

/** A validated `POST /chat` body. */
export interface ChatBody {
  message: string;
  history: HistoryMessage[];
  temperature: number | undefined;
  model: string;
}

/** A validated `POST /v1/chat/completions` body: only these fields are forwarded upstream. */
export interface CompletionBody {
  model: string;
  messages: ChatCompletionMessageParam[];
  stream: boolean;
  temperature?: number;
  top_p?: number;
  max_tokens: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  stop?: string | string[];
  seed?: number;
  include_usage?: boolean;
}

export interface ValidationFailure {
  status: number;
  /** The field at fault, e.g. `temperature` or `conversation_history[2].role`. */
  param: string;
  code: string;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ValidationFailure };

const fail = (param: string, message: string, code = 'invalid_value', status = 400): Result<never> => ({
  ok: false,
  error: { status, param, code, message },
});
const ok = <T>(value: T): Result<T> => ({ ok: true, value });

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a JSON body: a content type other than JSON is a 415, a body over the limit a 413 (declared or
 * streamed; src/http/body.ts), broken JSON or anything but an object a 400.
 */
export async function readJsonBody(req: Request, maxBytes: number): Promise<Result<Record<string, unknown>>> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    return fail('content-type', `Content-Type must be application/json (got "${type || 'none'}")`,
      'unsupported_media_type', 415);
  }
  let text: string;
  try {
    text = await readLimitedText(req, maxBytes, () => new RangeError('too large'));
  } catch (err) {
    if (err instanceof RangeError) return fail('body', `Request body is larger than ${maxBytes} bytes`, 'body_too_large', 413);
    throw err;
  }
  if (text === '') return fail('body', 'Request body is empty', 'invalid_json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('body', 'Request body is not valid JSON', 'invalid_json');
  }
  if (!isRecord(parsed)) return fail('body', 'Request body must be a JSON object', 'invalid_json');
  return ok(parsed);
}

function text(value: unknown, param: string, limits: ProxyLimits): Result<string> {
  if (typeof value !== 'string') return fail(param, `${param} must be a string`, 'invalid_type');
  if (value.trim().length === 0) return fail(param, `${param} must not be empty`, 'empty');
  if (value.length > limits.maxMessageChars) {
    return fail(param, `${param} is longer than ${limits.maxMessageChars} characters`, 'too_long');
  }
  return ok(value);
}

function range(value: unknown, param: string, min: number, max: number): Result<number | undefined> {
  if (value === undefined || value === null) return ok(undefined);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    return fail(param, `${param} must be a number from ${min} to ${max}`);
  }
  return ok(value);
}

function model(value: unknown, config: ProxyConfig): Result<string> {
  if (value === undefined || value === null || value === '') return ok(config.defaultModel);
  if (typeof value !== 'string') return fail('model', 'model must be a string', 'invalid_type');
  if (!config.allowedModels.includes(value)) {
    return fail('model', `model "${value.slice(0, 200)}" is not allowed by this proxy; allowed: ` +
      config.allowedModels.join(', '), 'model_not_allowed');
  }
  return ok(value);
}

const HISTORY_ROLES: readonly string[] = ['system', 'user', 'assistant'];

/** Validates a `POST /chat` body. */
export function validateChat(body: Record<string, unknown>, config: ProxyConfig): Result<ChatBody> {
  const { limits } = config;
  const message = text(body.message, 'message', limits);
  if (!message.ok) return message;

  const rawHistory = body.conversation_history ?? [];
  if (!Array.isArray(rawHistory)) {
    return fail('conversation_history', 'conversation_history must be a list of {role, content}', 'invalid_type');
  }
  if (rawHistory.length > limits.maxMessages) {
    return fail('conversation_history', `conversation_history has more than ${limits.maxMessages} messages`,
      'too_long');
  }
  const history: HistoryMessage[] = [];
  for (const [i, item] of rawHistory.entries()) {
    const at = `conversation_history[${i}]`;
    if (!isRecord(item)) return fail(at, `${at} must be an object {role, content}`, 'invalid_type');
    if (typeof item.role !== 'string' || !HISTORY_ROLES.includes(item.role)) {
      return fail(`${at}.role`, `${at}.role must be one of ${HISTORY_ROLES.join(', ')}`);
    }
    const content = text(item.content, `${at}.content`, limits);
    if (!content.ok) return content;
    history.push({ role: item.role as HistoryRole, content: content.value });
  }

  const temperature = range(body.temperature, 'temperature', 0, 2);
  if (!temperature.ok) return temperature;
  const m = model(body.model, config);
  if (!m.ok) return m;
  return ok({ message: message.value, history, temperature: temperature.value, model: m.value });
}

const V1_ROLES: readonly string[] = ['system', 'developer', 'user', 'assistant'];

/** Flattens an OpenAI message content (a string, or text parts) to a string; anything else is refused. */
function v1Content(value: unknown, param: string, limits: ProxyLimits): Result<string> {
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const [j, part] of value.entries()) {
      if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') {
        return fail(`${param}[${j}]`, `${param}[${j}] must be a text part: this proxy is text-only`,
          'unsupported_content');
      }
      parts.push(part.text);
    }
    return text(parts.join(''), param, limits);
  }
  return text(value, param, limits);
}

/** Validates and clamps a `POST /v1/chat/completions` body; unknown fields are dropped, not forwarded. */
export function validateCompletion(body: Record<string, unknown>, config: ProxyConfig): Result<CompletionBody> {
  const { limits } = config;
  const raw = body.messages;
  if (!Array.isArray(raw) || raw.length === 0) {
    return fail('messages', 'messages must be a non-empty list of {role, content}', 'invalid_type');
  }
  if (raw.length > limits.maxMessages) {
    return fail('messages', `messages has more than ${limits.maxMessages} entries`, 'too_long');
  }
  const messages: ChatCompletionMessageParam[] = [];
  for (const [i, item] of raw.entries()) {
    const at = `messages[${i}]`;
    if (!isRecord(item)) return fail(at, `${at} must be an object {role, content}`, 'invalid_type');
    if (typeof item.role !== 'string' || !V1_ROLES.includes(item.role)) {
      return fail(`${at}.role`, `${at}.role must be one of ${V1_ROLES.join(', ')}`);
    }
    const content = v1Content(item.content, `${at}.content`, limits);
    if (!content.ok) return content;
    messages.push({ role: item.role, content: content.value } as ChatCompletionMessageParam);
  }

  const m = model(body.model, config);
  if (!m.ok) return m;
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    return fail('stream', 'stream must be true or false', 'invalid_type');
  }
  const temperature = range(body.temperature, 'temperature', 0, 2);
  if (!temperature.ok) return temperature;
  const topP = range(body.top_p, 'top_p', 0, 1);
  if (!topP.ok) return topP;
  const presence = range(body.presence_penalty, 'presence_penalty', -2, 2);
  if (!presence.ok) return presence;
  const frequency = range(body.frequency_penalty, 'frequency_penalty', -2, 2);
  if (!frequency.ok) return frequency;
  const asked = body.max_completion_tokens ?? body.max_tokens;
  const maxTokens = range(asked, body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens',
    1, Number.MAX_SAFE_INTEGER);
  if (!maxTokens.ok) return maxTokens;

  const out: CompletionBody = {
    model: m.value,
    messages,
    stream: body.stream === true,
    // Clamped, not refused: a client asking for more than the operator allows still gets an answer.
    max_tokens: Math.min(Math.floor(maxTokens.value ?? limits.maxTokens), limits.maxTokens),
  };
  if (temperature.value !== undefined) out.temperature = temperature.value;
  if (topP.value !== undefined) out.top_p = topP.value;
  if (presence.value !== undefined) out.presence_penalty = presence.value;
  if (frequency.value !== undefined) out.frequency_penalty = frequency.value;
  const stop = body.stop;
  if (stop !== undefined && stop !== null) {
    const valid = typeof stop === 'string' ||
      (Array.isArray(stop) && stop.length <= 4 && stop.every((s) => typeof s === 'string'));
    if (!valid) return fail('stop', 'stop must be a string or a list of up to 4 strings');
    out.stop = stop as string | string[];
  }
  if (typeof body.seed === 'number' && Number.isInteger(body.seed)) out.seed = body.seed;
  const so = body.stream_options;
  if (isRecord(so) && so.include_usage === true) out.include_usage = true;
  return ok(out);
}
