/**
 * Reading an inference server's streamed answer the way llama.cpp's llama-server and vLLM send it.
 *
 * - The body is read to its very end, past `data: [DONE]`: the OpenAI SDK stops at [DONE] and cancels the body
 *   while llama-server's last write (the end of the chunked body) is still on its way, which closes the
 *   connection; read to the end, the connection goes back to the pool (keep-alive).
 * - The token counts each server reports (docs/rest-api.md): `usage.prompt_tokens` (every prompt token, cached
 *   ones included), `usage.prompt_tokens_details.cached_tokens` (llama-server, vLLM with prefix caching), and
 *   llama-server's `timings` on its last chunk (`prompt_n` evaluated, `cache_n` reused from its prompt cache).
 */
import { APIError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ReplyDetails } from '../chat/messages';

/** How long the end of the body may take after [DONE] before the rest is dropped (and the connection with it). */
const AFTER_DONE_MS = 1_000;

interface ParsedEvent { event: string; data: string }

function parseEvent(block: string): ParsedEvent | null {
  let event = '';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue; // a comment: llama-server's keep-alive pings
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
  }
  return data.length ? { event, data: data.join('\n') } : null;
}

/** One event's chunk; an error event (or a chunk with `error`) is the server's failure, as the SDK reports it. */
function toChunk(e: ParsedEvent, headers: Headers): ChatCompletionChunk {
  let data: unknown;
  try {
    data = JSON.parse(e.data);
  } catch {
    throw new APIError(undefined, { message: 'sent an event that is not JSON' }, undefined, headers);
  }
  const error = (data as { error?: unknown } | null)?.error;
  if (e.event === 'error' || error !== undefined) {
    throw new APIError(undefined, (error ?? data) as Record<string, unknown>, undefined, headers);
  }
  return data as ChatCompletionChunk;
}

/** The rest of a body after [DONE], read and dropped, for a short time at most. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), AFTER_DONE_MS)));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === 'late') return false;
      if (next.done) return true;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** The chunks of an SSE response, in order; ends when the body ends (read to its end, see the file comment). */
export async function* sseChunks(response: Response): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  if (!response.body) return;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let ended = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        buffer += decoder.decode();
      } else {
        buffer += decoder.decode(value, { stream: true });
      }
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = ended ? '' : blocks.pop() ?? '';
      for (const block of blocks) {
        const e = parseEvent(block);
        if (!e) continue;
        if (e.data === '[DONE]') {
          ended = ended || (await drain(reader));
          return;
        }
        yield toChunk(e, response.headers);
      }
      if (ended) return;
    }
  } finally {
    if (!ended) await reader.cancel().catch(() => undefined);
  }
}

/** What a stream said about its prompt, whichever way the server says it. */
export interface ServerCounts {
  usage?: { prompt_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } | null } | null;
  timings?: { prompt_n?: number; cache_n?: number };
}

const count = (n: unknown): number | undefined => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined);

/** Takes the counts a chunk carries (usage, timings), keeping the ones seen before. */
export function readCounts(into: ServerCounts, chunk: ChatCompletionChunk): void {
  const c = chunk as ChatCompletionChunk & ServerCounts;
  if (c.usage) into.usage = c.usage;
  if (c.timings) into.timings = c.timings;
}

/**
 * Text a model could turn into tokens before the image, at most (bytes, as byte-level BPE never makes more
 * tokens than bytes, plus room for each message's role and separators).
 */
function tokensBeforeImage(messages: ChatCompletionMessageParam[]): number | null {
  let bound = 8;
  for (const m of messages) {
    bound += 8;
    if (typeof m.content === 'string') {
      bound += Buffer.byteLength(m.content);
      continue;
    }
    for (const p of m.content ?? []) {
      if (p.type === 'image_url') return bound;
      if (p.type === 'text') bound += Buffer.byteLength(p.text);
    }
  }
  return null;
}

/**
 * The reply's prompt figures from the server's counts: prompt tokens (usage, else prompt_n + cache_n), cached
 * tokens (timings.cache_n, else usage's cached_tokens), and whether the server read the image again: the
 * servers reuse an image only as part of a cached prefix, so a cache reaching past all text before the image
 * means its tokens came from the cache.
 */
export function promptDetails(c: ServerCounts, messages: ChatCompletionMessageParam[]): Partial<ReplyDetails> {
  const cached = count(c.timings?.cache_n) ?? count(c.usage?.prompt_tokens_details?.cached_tokens);
  const evaluated = count(c.timings?.prompt_n);
  const prompt = count(c.usage?.prompt_tokens) ?? (evaluated !== undefined ? evaluated + (cached ?? 0) : undefined);
  const out: Partial<ReplyDetails> = {};
  if (prompt !== undefined) out.promptTokens = prompt;
  if (cached !== undefined) out.cachedTokens = cached;
  const before = tokensBeforeImage(messages);
  if (before !== null && cached !== undefined) out.visionRan = cached <= before;
  return out;
}

/**
 * The model to report: the server's id when it is a name (vLLM's hub id, a llama-server --alias), else the
 * configured one: llama-server without --alias names the file it loaded (`models/text-f16.gguf`).
 */
export function answeringModel(served: string, configured: string): string {
  const path = /\.(gguf|ggml|bin|safetensors|onnx|pth?)$/i.test(served) || /^(\/|\.{1,2}\/|~|[A-Za-z]:[\\/])/.test(served) || served.includes('\\');
  return served && !path ? served : configured;
}
