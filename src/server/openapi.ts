/**
 * The REST API's operations for its OpenAPI document (src/http/openapi.ts): the answers' valibot schemas, whose
 * inferred types the chat service's response types must match (checked below at compile time), and the form
 * with the limits the handler reads it under. test/unit/server/openapi.test.ts checks every answer against them.
 */
import * as v from 'valibot';
import type { ChatResponse, ClearResponse, HistoryResponse } from '../chat/api';
import { formatNames } from '../chat/images';
import { ErrorSchema, type DocOperation, type DocResponse } from '../http/openapi';
import { API_IMAGE_TYPES } from './image-types';

const TextPart = v.object({ type: v.literal('text'), text: v.string() });
const ImagePart = v.object({ type: v.literal('image') });

export const ChatAnswerSchema = v.object({
  message: v.string(), response: v.string(), has_image: v.boolean(), model_used: v.string(),
  session_id: v.string(), conversation_length: v.pipe(v.number(), v.integer()),
  finish_reason: v.optional(v.pipe(v.picklist(['stop', 'length']), v.description(
    '"length": the answer was cut at the token limit (GLIMPSE_MAX_NEW_TOKENS); POST /chat/sessions/{session_id}/continue goes on. "stop": the model ended it.'))),
});
const HistoryMessageSchema = v.object({
  role: v.picklist(['user', 'assistant']),
  content: v.array(v.union([TextPart, ImagePart])),
  timestamp: v.string(),
  status: v.optional(v.pipe(v.picklist(['error', 'stopped', 'interrupted', 'streaming']), v.description('Only on an answer that did not complete.'))),
  error: v.optional(v.object({ code: v.string(), message: v.string() })),
  finish_reason: v.optional(v.pipe(v.literal('length'), v.description('Only on an answer cut at the token limit (it can be continued).'))),
});
export const HistorySchema = v.object({ session_id: v.string(), history: v.array(HistoryMessageSchema), length: v.pipe(v.number(), v.integer()) });
export const ClearSchema = v.object({ message: v.string(), session_id: v.string(), removed: v.pipe(v.number(), v.integer()) });
const SessionSchema = v.object({
  id: v.string(), title: v.string(), created_at: v.string(), updated_at: v.string(),
  message_count: v.pipe(v.number(), v.integer()), has_image: v.boolean(), preview: v.string(),
});
export const SessionsSchema = v.object({
  sessions: v.array(SessionSchema), total: v.pipe(v.number(), v.integer()), limit: v.pipe(v.number(), v.integer()),
  offset: v.pipe(v.number(), v.integer()), next_offset: v.nullable(v.pipe(v.number(), v.integer())),
});
export const DeletedSchema = v.object({ message: v.string(), session_id: v.string(), deleted: v.literal(true) });
export const HealthSchema = v.object({
  status: v.picklist(['ok', 'unavailable']), model: v.string(), model_state: v.picklist(['idle', 'loading', 'ready', 'error']),
  model_error: v.optional(v.string()), device: v.optional(v.literal('cpu')),
  engine: v.optional(v.object({ kind: v.string(), host: v.string(), model: v.string(), reachable: v.optional(v.boolean()) })),
  queue: v.object({ running: v.pipe(v.number(), v.integer()), waiting: v.pipe(v.number(), v.integer()), max_waiting: v.pipe(v.number(), v.integer()) }),
});
export const RootSchema = v.object({ name: v.string(), model: v.string(), endpoints: v.array(v.string()) });

// The service's answers are these shapes: a change to one without the other fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShapes: [Same<ChatResponse, v.InferOutput<typeof ChatAnswerSchema>>, Same<ClearResponse, v.InferOutput<typeof ClearSchema>>,
  Same<HistoryResponse['length'], v.InferOutput<typeof HistorySchema>['length']>] = [true, true, true];
void sameShapes;

/** The form POST /chat reads (src/server/form.ts), with the limits of this instance. */
function chatForm(maxMessageChars: number, maxImageBytes: number) {
  return v.object({
    message: v.pipe(v.string(), v.maxLength(maxMessageChars), v.description('Required; only with an image may it be empty. Not only spaces or invisible characters.')),
    image: v.optional(v.pipe(v.string(), v.description(
      `A file part (multipart only): ${formatNames(API_IMAGE_TYPES)} (checked from its bytes), at most ${maxImageBytes} bytes (GLIMPSE_MAX_UPLOAD_BYTES).`))),
    session_id: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.:-]{1,128}$/), v.description('Continue this session; absent: a new one.'))),
  });
}

const err = (description: string, headers?: Record<string, string>): DocResponse =>
  ({ description, schema: ErrorSchema, ...(headers ? { headers } : {}) });
const RETRY = { 'Retry-After': 'Seconds to wait before trying again.' };
const json = (description: string, schema: v.GenericSchema): DocResponse => ({ description, schema });
const sessionParam = { name: 'session_id', in: 'path' as const, required: true, description: 'The session’s id.', schema: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.:-]{1,128}$/)) };
const RATE = err('Over GLIMPSE_RATE_PER_CLIENT (ClientRateLimitError) or, for POST /chat, GLIMPSE_RATE_PER_SESSION.', RETRY);
const BAD_ID = err('A session id that is not letters, digits, - _ . : (InvalidSessionIdError).');
/** What any turn (POST /chat, Continue) can meet once it is queued: limits, the queue, the model, the disk. */
const TURN_FAILURES = {
  429: RATE,
  502: err('GLIMPSE_ENGINE=openai: the inference server failed or refused (RemoteUnavailableError, RemoteRequestError).'),
  503: err('The queue is full (QueueFullError, with Retry-After), or the model cannot load (model_unavailable_error: the message names the host and MODEL_PATH).', RETRY),
  504: err('GLIMPSE_ENGINE=openai: the inference server did not answer in time.'),
  507: err('The disk is full (StorageQuotaError).'),
};
const NO_SESSION = err('No such session (SessionNotFoundError), or no such path (RouteNotFoundError).');

/** Every operation of the REST API, for the document. */
export function apiOperations(opts: { maxMessageChars: number; maxImageBytes: number; metrics: boolean }): DocOperation[] {
  const form = chatForm(opts.maxMessageChars, opts.maxImageBytes);
  const ops: DocOperation[] = [
    {
      method: 'post', path: '/chat', summary: 'Send a message (and optionally an image); get the answer.',
      description: 'One answer at a time: requests wait in a queue of GLIMPSE_API_QUEUE. Nothing is stored for a refused request.',
      requestBody: { content: { 'multipart/form-data': form, 'application/x-www-form-urlencoded': form } },
      responses: {
        200: { ...json('The answer, stored in the session.', ChatAnswerSchema), headers: {
          'X-Glimpse-Prompt-Tokens': 'Prompt tokens.', 'X-Glimpse-Cached-Tokens': 'Of those, served from the KV cache.',
          'X-Glimpse-Vision-Ran': 'false when the image was already in the cache.', 'X-Glimpse-Generation-Ms': 'The turn’s time.',
          'X-Glimpse-Queue-Ms': 'The wait in the queue.' } },
        400: err('The form: MissingFieldError, EmptyMessageError, MessageTooLongError, InvalidFieldError, MalformedFormError, InvalidSessionIdError.'),
        404: err('No such session (SessionNotFoundError).'),
        409: err('A message changed since it was read (StaleWriteError).'),
        413: err('An image over the limits (ImageTooLargeError), or a request over the upload limit plus 1 MB (RequestTooLargeError).'),
        415: err(`Not a ${formatNames(API_IMAGE_TYPES, 'or')} image (UnsupportedImageError), or a body that is not a form (UnsupportedMediaTypeError).`),
        422: err('A damaged image (ImageUnreadableError), or a conversation longer than the model reads (PromptTooLongError).'),
        ...TURN_FAILURES,
      },
    },
    {
      method: 'post', path: '/chat/sessions/{session_id}/continue', summary: 'Continue the last answer where the token limit cut it.',
      description: 'The same answer grows (no new message): the local engine goes on from its KV cache, an inference server from the answer so far. '
        + 'Also continues an answer that was stopped. The answer is the whole text, as POST /chat returns it.',
      parameters: [sessionParam],
      responses: {
        200: json('The whole answer now, stored in place of the cut one.', ChatAnswerSchema),
        400: BAD_ID, 404: NO_SESSION,
        409: err('The last answer was not cut off, or the engine cannot continue one (CannotContinueError); a message changed since it was read (StaleWriteError).'),
        422: err('The conversation is as long as the model reads (PromptTooLongError).'),
        ...TURN_FAILURES,
      },
    },
    { method: 'get', path: '/chat/history/{session_id}', summary: 'A session’s messages.', parameters: [sessionParam],
      responses: { 200: json('The messages, oldest first.', HistorySchema), 400: BAD_ID, 404: NO_SESSION, 429: RATE } },
    { method: 'delete', path: '/chat/history/{session_id}', summary: 'Clear a session’s messages (the session stays, empty).', parameters: [sessionParam],
      responses: { 200: json('Cleared.', ClearSchema), 400: BAD_ID, 404: NO_SESSION, 429: RATE, 507: err('The disk is full.') } },
    { method: 'get', path: '/chat/sessions', summary: 'The sessions, newest first, a page at a time.',
      parameters: [
        { name: 'limit', in: 'query', description: 'Page size, 1–1000 (default 100).', schema: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)) },
        { name: 'offset', in: 'query', description: 'Sessions to skip (default 0).', schema: v.pipe(v.number(), v.integer(), v.minValue(0)) },
      ],
      responses: { 200: json('One page; next_offset is null on the last.', SessionsSchema), 400: err('A bad limit or offset (InvalidFieldError).'), 429: RATE } },
    { method: 'delete', path: '/chat/sessions/{session_id}', summary: 'Delete a session, its messages and the images only it used.', parameters: [sessionParam],
      responses: { 200: json('Deleted.', DeletedSchema), 400: BAD_ID, 404: NO_SESSION, 429: RATE } },
    { method: 'get', path: '/health', summary: 'The model’s state and the queue.',
      responses: { 200: json('Ready to answer.', HealthSchema), 503: json('GLIMPSE_ENGINE=openai: the inference server cannot answer.', HealthSchema) } },
    { method: 'get', path: '/', summary: 'The server’s name, model and endpoints.', responses: { 200: json('The index.', RootSchema) } },
    { method: 'get', path: '/openapi.json', summary: 'This document (OpenAPI 3.1).', responses: { 200: { description: 'The document.', schema: v.looseObject({}) } } },
    { method: 'get', path: '/docs', summary: 'This document as a page.', responses: { 200: { description: 'HTML.', schema: v.string(), contentType: 'text/html' } } },
  ];
  if (opts.metrics) {
    ops.push({ method: 'get', path: '/metrics', summary: 'Prometheus metrics.', responses: {
      200: { description: 'Prometheus text format.', schema: v.string(), contentType: 'text/plain' },
      401: err('Without the GLIMPSE_METRICS_TOKEN bearer token (MetricsUnauthorizedError).'),
    } });
  }
  return ops;
}
