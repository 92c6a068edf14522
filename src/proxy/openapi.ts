/**
 * The proxy's operations for its OpenAPI document (src/http/openapi.ts): the request bodies are the very
 * valibot schemas validate.ts checks them with, under this instance's limits; the answers' schemas are here.
 * test/unit/server/openapi.test.ts checks the handlers' real answers against them.
 */
import * as v from 'valibot';
import { ErrorSchema, type DocOperation, type DocResponse } from '../http/openapi';
import type { ProxyConfig } from './config';
import { schemasFor } from './validate';

const Turn = v.object({ role: v.picklist(['system', 'user', 'assistant']), content: v.string() });
export const ProxyChatAnswerSchema = v.object({
  response: v.string(), conversation_history: v.array(Turn), model_used: v.string(),
  finish_reason: v.optional(v.pipe(v.picklist(['stop', 'length']), v.description('"length": the answer was cut at GLIMPSE_MAX_TOKENS.'))),
});
export const ResetSchema = v.object({ message: v.string(), conversation_history: v.array(Turn) });
export const ProxyHealthSchema = v.object({
  status: v.literal('ok'), default_model: v.string(), models: v.array(v.string()), image_models: v.array(v.string()),
  default_model_reads_images: v.boolean(),
});
export const ModelsSchema = v.object({
  object: v.literal('list'),
  data: v.array(v.object({ id: v.string(), object: v.literal('model'), created: v.number(), owned_by: v.string() })),
});
/** OpenAI's chat.completion, as the upstream sent it (the fields a client reads). */
export const CompletionSchema = v.looseObject({
  id: v.string(), object: v.literal('chat.completion'), created: v.number(), model: v.string(),
  choices: v.array(v.looseObject({
    index: v.number(), finish_reason: v.nullable(v.string()),
    message: v.looseObject({ role: v.literal('assistant'), content: v.nullable(v.string()) }),
  })),
  usage: v.optional(v.looseObject({ prompt_tokens: v.number(), completion_tokens: v.number(), total_tokens: v.number() })),
});

const err = (description: string, headers?: Record<string, string>): DocResponse =>
  ({ description, schema: ErrorSchema, ...(headers ? { headers } : {}) });
const RETRY = { 'Retry-After': 'Seconds to wait before trying again.' };
const UPSTREAM = {
  400: err('A field at fault, named by `param` and at the start of the message (invalid_type, empty, too_long, model_not_allowed, image rules…), or a body that is not JSON.'),
  413: err('A body over GLIMPSE_MAX_BODY_BYTES (plus one image’s base64 where images are read).'),
  415: err('Not application/json.'),
  429: err('Over GLIMPSE_RATE_LIMIT, or the upstream kept refusing.', RETRY),
  502: err('The upstream failed, could not be reached, or refused the key; an upstream 4xx keeps its status (type upstream_rejected).'),
  504: err('The upstream did not answer within GLIMPSE_UPSTREAM_TIMEOUT_MS.'),
};

/** Every operation of the proxy, for the document. */
export function proxyOperations(config: ProxyConfig, metrics: boolean): DocOperation[] {
  const { chat, completion } = schemasFor(config.limits);
  const ops: DocOperation[] = [
    { method: 'get', path: '/health', summary: 'The models this proxy allows, and which read images.', responses: { 200: { description: 'Up.', schema: ProxyHealthSchema } } },
    { method: 'get', path: '/v1/models', summary: 'The allowed models, OpenAI’s list shape.', responses: { 200: { description: 'The list.', schema: ModelsSchema } } },
    { method: 'post', path: '/chat', summary: 'One turn: the message and the history the client keeps; the answer and the new history.',
      requestBody: { content: { 'application/json': chat } },
      responses: { 200: { description: 'The answer; the history ends with the new user and assistant turns.', schema: ProxyChatAnswerSchema }, ...UPSTREAM } },
    { method: 'post', path: '/chat/reset', summary: 'Tells a client to start over (the proxy keeps no state).', responses: { 200: { description: 'Reset.', schema: ResetSchema } } },
    { method: 'post', path: '/v1/chat/completions', summary: 'OpenAI-compatible chat completions, streamed (SSE) or not; text and at most one inline image.',
      requestBody: { content: { 'application/json': completion } },
      responses: {
        200: { description: 'The completion as JSON; with "stream": true a text/event-stream of chat.completion.chunk events (an error mid-stream is a data: {"error": …} event).', schema: CompletionSchema },
        ...UPSTREAM,
      } },
    { method: 'get', path: '/openapi.json', summary: 'This document (OpenAPI 3.1).', responses: { 200: { description: 'The document.', schema: v.looseObject({}) } } },
    { method: 'get', path: '/docs', summary: 'This document as a page.', responses: { 200: { description: 'HTML.', schema: v.string(), contentType: 'text/html' } } },
  ];
  if (metrics) {
    ops.push({ method: 'get', path: '/metrics', summary: 'Prometheus metrics.', responses: {
      200: { description: 'Prometheus text format.', schema: v.string(), contentType: 'text/plain' },
      401: err('Without the GLIMPSE_METRICS_TOKEN bearer token.'),
    } });
  }
  return ops;
}
