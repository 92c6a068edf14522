/**
 * Request validation for the proxy: a valibot schema per body, so the types come from the schemas and every
 * refusal answers with a 4xx naming the offending field by its path (`param`, as OpenAI's own errors do, e.g.
 * `messages[3].content[0].image_url.url`), so a client, the CLI or a person reading curl output knows what
 * to fix. The rules that depend on the configuration (allowed models, which of them read images, the image
 * limit) run on the parsed body.
 */
import * as v from 'valibot';
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { readLimitedText } from '../http/body';
import type { ProxyConfig, ProxyLimits } from './config';
import { checkImageUrl, maxDataUrlChars } from './images';

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
  error: { status, param, code, message: `${param}: ${message}` },
});
const ok = <T>(value: T): Result<T> => ({ ok: true, value });

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
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('body', 'Request body must be a JSON object', 'invalid_json');
  }
  const value = parsed as Record<string, unknown>;
  bodyBytes.set(value, encoder.encode(text).byteLength);
  return ok(value);
}

const encoder = new TextEncoder();
/** The size of each body readJsonBody parsed: the text limit applies to all of it but the image. */
const bodyBytes = new WeakMap<object, number>();

/** The largest /v1/chat/completions body: the text limit, plus room for one image when any model reads them. */
export const completionBodyLimit = (config: ProxyConfig): number =>
  config.limits.maxBodyBytes + (config.imageModels.length > 0 ? maxDataUrlChars(config.limits.maxImageBytes) : 0);

// ---- schemas ---------------------------------------------------------------------------------------------

const text = (limits: ProxyLimits) => v.pipe(
  v.string('must be a string'),
  v.regex(/\S/, 'must not be empty'),
  v.maxLength(limits.maxMessageChars, `is longer than ${limits.maxMessageChars} characters`),
);
const range = (min: number, max: number) =>
  v.nullish(v.pipe(v.number(`must be a number from ${min} to ${max}`), v.minValue(min, `must be a number from ${min} to ${max}`),
    v.maxValue(max, `must be a number from ${min} to ${max}`)));
const modelName = v.nullish(v.string('must be a string'));

function chatSchema(limits: ProxyLimits) {
  const HistoryMessage = v.object({
    role: v.picklist(['system', 'user', 'assistant'], 'must be one of system, user, assistant'),
    content: text(limits),
  }, 'must be an object {role, content}');
  return v.object({
    message: text(limits),
    conversation_history: v.nullish(v.pipe(
      v.array(HistoryMessage, 'must be a list of {role, content}'),
      v.maxLength(limits.maxMessages, `has more than ${limits.maxMessages} messages`),
    ), []),
    temperature: range(0, 2),
    model: modelName,
  });
}

const TextPart = v.object({ type: v.literal('text'), text: v.string('must be a string') });
const ImagePart = v.object({
  type: v.literal('image_url'),
  image_url: v.object({
    url: v.string('must be a string'),
    detail: v.optional(v.picklist(['auto', 'low', 'high'], 'must be auto, low or high')),
  }, 'must be an object {url, detail?}'),
});

function completionSchema(limits: ProxyLimits) {
  const Content = v.union([
    v.string('must be a string or a list of text and image_url parts'),
    v.array(v.variant('type', [TextPart, ImagePart], 'must be a text or image_url part')),
  ], 'must be a string or a list of text and image_url parts');
  const Message = v.object({
    role: v.picklist(['system', 'developer', 'user', 'assistant'], 'must be one of system, developer, user, assistant'),
    content: Content,
  }, 'must be an object {role, content}');
  const tokens = v.nullish(v.pipe(v.number('must be a whole number of at least 1'), v.minValue(1, 'must be at least 1')));
  return v.object({
    model: modelName,
    messages: v.pipe(
      v.array(Message, 'must be a non-empty list of {role, content}'),
      v.minLength(1, 'must be a non-empty list of {role, content}'),
      v.maxLength(limits.maxMessages, `has more than ${limits.maxMessages} entries`),
    ),
    stream: v.nullish(v.boolean('must be true or false')),
    temperature: range(0, 2),
    top_p: range(0, 1),
    presence_penalty: range(-2, 2),
    frequency_penalty: range(-2, 2),
    max_tokens: tokens,
    max_completion_tokens: tokens,
    stop: v.nullish(v.union([v.string(), v.pipe(v.array(v.string('must be a string')), v.maxLength(4, 'must have at most 4 strings'))],
      'must be a string or a list of up to 4 strings')),
    seed: v.optional(v.unknown()),
    stream_options: v.optional(v.unknown()),
  });
}

type ChatInput = v.InferOutput<ReturnType<typeof chatSchema>>;
type CompletionInput = v.InferOutput<ReturnType<typeof completionSchema>>;
type V1Message = CompletionInput['messages'][number];

/** One turn of a /chat conversation_history. */
export type HistoryMessage = ChatInput['conversation_history'][number];
export type HistoryRole = HistoryMessage['role'];

const schemas = new WeakMap<ProxyLimits, { chat: ReturnType<typeof chatSchema>; completion: ReturnType<typeof completionSchema> }>();
/** The request bodies' schemas under `limits`: what the handlers validate with, and what /openapi.json shows. */
export function schemasFor(limits: ProxyLimits) {
  let s = schemas.get(limits);
  if (!s) schemas.set(limits, s = { chat: chatSchema(limits), completion: completionSchema(limits) });
  return s;
}

/** `messages[3].content[0].image_url.url` from a valibot issue's path. */
export function pathOf(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  }
  return out || 'body';
}

/**
 * A union (`content`: a string or a list of parts) reports one issue at its own level; when one of its
 * branches got further (a list whose third part is wrong), that branch's issue names the field better.
 */
function innermost(issue: v.BaseIssue<unknown>): v.BaseIssue<unknown> {
  let best = issue;
  for (const sub of issue.issues ?? []) {
    const inner = innermost(sub);
    // A branch's path is relative to the union.
    const path = [...(issue.path ?? []), ...(inner.path ?? [])] as typeof issue.path;
    if ((path?.length ?? 0) > (best.path?.length ?? 0)) best = { ...inner, path };
  }
  return best;
}

/** valibot reports a missing key with its object's message; say what is wrong with the field instead. */
function messageOf(issue: v.BaseIssue<unknown>): string {
  const last = issue.path?.at(-1) as { origin?: string } | undefined;
  return issue.kind === 'schema' && last?.origin === 'key' ? 'is missing' : issue.message;
}

const CODES: Record<string, string> = { regex: 'empty', max_length: 'too_long', min_length: 'empty' };

function parse<S extends v.GenericSchema>(schema: S, body: unknown): Result<v.InferOutput<S>> {
  const r = v.safeParse(schema, body, { abortEarly: true });
  if (r.success) return ok(r.output);
  const issue = innermost(r.issues[0]);
  return fail(pathOf(issue), messageOf(issue), issue.kind === 'schema' ? 'invalid_type' : CODES[issue.type] ?? 'invalid_value');
}

function model(value: string | null | undefined, config: ProxyConfig): Result<string> {
  if (value === undefined || value === null || value === '') return ok(config.defaultModel);
  if (!config.allowedModels.includes(value)) {
    return fail('model', `"${value.slice(0, 200)}" is not allowed by this proxy; allowed: ` +
      config.allowedModels.join(', '), 'model_not_allowed');
  }
  return ok(value);
}

// ---- POST /chat ------------------------------------------------------------------------------------------

/** A validated `POST /chat` body. */
export interface ChatBody {
  message: string;
  history: HistoryMessage[];
  temperature: number | undefined;
  model: string;
}

/** Validates a `POST /chat` body. */
export function validateChat(body: Record<string, unknown>, config: ProxyConfig): Result<ChatBody> {
  const parsed = parse(schemasFor(config.limits).chat, body);
  if (!parsed.ok) return parsed;
  const { message, conversation_history: history, temperature } = parsed.value;
  const m = model(parsed.value.model, config);
  if (!m.ok) return m;
  return ok({ message, history, temperature: temperature ?? undefined, model: m.value });
}

// ---- POST /v1/chat/completions ---------------------------------------------------------------------------

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

/**
 * One message as forwarded: text parts joined into one string (within the length limit); a user message with
 * an image becomes `[image_url, text]` (the text left out when empty). Images are checked by checkImages.
 */
function forwardMessage(m: V1Message, at: string, limits: ProxyLimits): Result<ChatCompletionMessageParam> {
  if (typeof m.content === 'string') return asText(m.role, m.content, `${at}.content`, limits);
  const joined = m.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
  const image = m.content.find((p) => p.type === 'image_url');
  if (!image) return asText(m.role, joined, `${at}.content`, limits);
  if (joined.length > limits.maxMessageChars) {
    return fail(`${at}.content`, `is longer than ${limits.maxMessageChars} characters`, 'too_long');
  }
  const parts: ChatCompletionContentPart[] = [{ type: 'image_url', image_url: image.image_url }];
  if (joined.trim().length > 0) parts.push({ type: 'text', text: joined });
  return ok({ role: 'user', content: parts });
}

function asText(role: V1Message['role'], content: string, param: string, limits: ProxyLimits): Result<ChatCompletionMessageParam> {
  const t = parse(text(limits), content);
  if (!t.ok) return fail(param, t.error.message.replace(/^body: /, ''), t.error.code);
  return ok({ role, content: t.value } as ChatCompletionMessageParam);
}

/** At most one image, in a user message, to a model that reads images, inline and within the limits. */
function checkImages(messages: V1Message[], modelName: string, config: ProxyConfig): Result<true> {
  let seen = false;
  for (const [i, m] of messages.entries()) {
    if (typeof m.content === 'string') continue;
    for (const [j, part] of m.content.entries()) {
      if (part.type !== 'image_url') continue;
      const at = `messages[${i}].content[${j}]`;
      if (m.role !== 'user') return fail(at, 'only user messages can carry an image', 'invalid_value');
      if (seen) return fail(at, 'this proxy takes at most one image per request', 'too_many_images');
      seen = true;
      if (!config.imageModels.includes(modelName)) {
        return fail(at, `model "${modelName}" reads text only on this proxy (GLIMPSE_IMAGE_MODELS); send the text ` +
          'without the image, or choose a model that reads images', 'model_text_only');
      }
      const problem = checkImageUrl(part.image_url.url, config.limits.maxImageBytes);
      if (problem) return fail(`${at}.image_url.url`, problem.message, problem.code);
    }
  }
  return ok(true);
}

/** The longest image URL in a body not yet validated (its size does not count against GLIMPSE_MAX_BODY_BYTES). */
function longestImageUrl(body: Record<string, unknown>): number {
  let longest = 0;
  for (const m of Array.isArray(body.messages) ? body.messages as unknown[] : []) {
    const content = (m as { content?: unknown } | null)?.content;
    for (const p of Array.isArray(content) ? content as unknown[] : []) {
      const url = (p as { image_url?: { url?: unknown } } | null)?.image_url?.url;
      if (typeof url === 'string') longest = Math.max(longest, url.length);
    }
  }
  return longest;
}

/** Validates and clamps a `POST /v1/chat/completions` body; unknown fields are dropped, not forwarded. */
export function validateCompletion(body: Record<string, unknown>, config: ProxyConfig): Result<CompletionBody> {
  const { limits } = config;
  if ((bodyBytes.get(body) ?? 0) - longestImageUrl(body) > limits.maxBodyBytes) {
    return fail('body', `Request body is larger than ${limits.maxBodyBytes} bytes (not counting the image)`,
      'body_too_large', 413);
  }
  const parsed = parse(schemasFor(limits).completion, body);
  if (!parsed.ok) return parsed;
  const b = parsed.value;
  const messages: ChatCompletionMessageParam[] = [];
  for (const [i, m] of b.messages.entries()) {
    const forwarded = forwardMessage(m, `messages[${i}]`, limits);
    if (!forwarded.ok) return forwarded;
    messages.push(forwarded.value);
  }
  const m = model(b.model, config);
  if (!m.ok) return m;
  const images = checkImages(b.messages, m.value, config);
  if (!images.ok) return images;

  const asked = b.max_completion_tokens ?? b.max_tokens;
  const out: CompletionBody = {
    model: m.value,
    messages,
    stream: b.stream === true,
    // Clamped, not refused: a client asking for more than the operator allows still gets an answer.
    max_tokens: Math.min(Math.floor(asked ?? limits.maxTokens), limits.maxTokens),
  };
  if (b.temperature != null) out.temperature = b.temperature;
  if (b.top_p != null) out.top_p = b.top_p;
  if (b.presence_penalty != null) out.presence_penalty = b.presence_penalty;
  if (b.frequency_penalty != null) out.frequency_penalty = b.frequency_penalty;
  if (b.stop != null) out.stop = b.stop;
  if (typeof b.seed === 'number' && Number.isInteger(b.seed)) out.seed = b.seed;
  const so = b.stream_options;
  if (typeof so === 'object' && so !== null && (so as { include_usage?: unknown }).include_usage === true) out.include_usage = true;
  return ok(out);
}
