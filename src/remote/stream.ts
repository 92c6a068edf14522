/**
 * What both OpenAI-SDK backends do alike with a streamed chat completion: the request they send (the browser's
 * remote backend, src/remote/backend.ts, and the REST API's inference-server engine, src/server/openai-engine.ts),
 * the text, tokens and model read from its chunks as they arrive (each reported through `onToken`), and the
 * timings of the turn. Where the stream comes from, retries and idle limits stay with each backend.
 */
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { BackendRequest, BackendResult } from '../chat/backend';
import { toOpenAIMessages } from './convert';

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The streamed request for a turn: the context (with the image as a data URL, if any) and the settings, bounded. */
export function completionParams(model: string, req: BackendRequest, imageUrl: string | undefined):
  ChatCompletionCreateParamsStreaming {
  const { settings } = req;
  return {
    model,
    messages: toOpenAIMessages(req.messages, settings.systemPrompt, imageUrl),
    temperature: clamp(settings.temperature, 0, 2),
    top_p: clamp(settings.topP, 0, 1),
    max_tokens: Math.max(1, Math.floor(settings.maxNewTokens)),
    ...(settings.seed !== undefined && settings.temperature > 0 ? { seed: settings.seed } : {}),
    stream: true,
  };
}

/** The answer as it streams in: each chunk with text is one token, reported at once through `onToken`. */
export class StreamedAnswer {
  text = '';
  tokens = 0;
  /** The model the server says answered ('' until a chunk names one). */
  model = '';
  /** performance.now() at the first text. */
  firstTokenAt: number | undefined;
  /** The server's finish_reason, as ReplyDetails keeps it: 'length' (cut at max_tokens) or 'stop'. */
  finishReason: 'stop' | 'length' | undefined;

  /**
   * `prefix`: Continue's answer so far, which the streamed text extends (`text` and each event's `full` are the
   * whole answer; nothing is trimmed from the first chunk then).
   */
  constructor(private readonly onToken?: BackendRequest['onToken'], private readonly opts: { trimLeadingSpace?: boolean; prefix?: string } = {}) {
    this.text = opts.prefix ?? '';
  }

  /**
   * Takes one chunk; true when it carried text (a role, a finish reason or usage alone carry none). With
   * `trimLeadingSpace`, one space at the very start of the answer is dropped (llama-server's " Hello").
   */
  add(chunk: ChatCompletionChunk): boolean {
    this.model ||= chunk.model ?? '';
    const finish = chunk.choices?.[0]?.finish_reason;
    if (finish === 'length' || finish === 'stop') this.finishReason = finish;
    const raw = chunk.choices?.[0]?.delta?.content ?? '';
    if (raw.length === 0) return false;
    const trim = this.tokens === 0 && this.opts.trimLeadingSpace && this.opts.prefix === undefined;
    const text = trim ? raw.replace(/^ /, '') : raw;
    this.firstTokenAt ??= performance.now();
    this.text += text;
    this.tokens += 1;
    this.onToken?.({ text, full: this.text, tokens: this.tokens });
    return true;
  }
}

export interface ReadOptions {
  /** Stop right after the first chunk with text (the rest is read by a later call). */
  untilText?: boolean;
  /** After each chunk arrives (an idle watchdog's touch; the chunk, to read what else it carries). */
  onChunk?(chunk: ChatCompletionChunk | undefined): void;
}

/**
 * Reads chunks from `it` into `answer`; true when the stream has ended. The SDK may end a stream quietly when
 * it is aborted mid-read: the caller checks its signal afterwards.
 */
export async function readChunks(it: AsyncIterator<ChatCompletionChunk>, answer: StreamedAnswer,
  opts: ReadOptions = {}): Promise<boolean> {
  for (;;) {
    const next = await it.next();
    opts.onChunk?.(next.done ? undefined : next.value);
    if (next.done) return true;
    if (answer.add(next.value) && opts.untilText) return false;
  }
}

/** A turn's timings for ReplyDetails, in whole ms and tokens per second to one decimal (after the first token). */
export function streamTimings(started: number, firstTokenAt: number | undefined, end: number, tokens: number):
  NonNullable<BackendResult['details']> {
  const genMs = firstTokenAt === undefined ? 0 : end - firstTokenAt;
  return {
    tokens,
    totalMs: Math.round(end - started),
    ...(firstTokenAt === undefined ? {} : { timeToFirstTokenMs: Math.round(firstTokenAt - started) }),
    ...(genMs > 0 && tokens > 1 ? { tokensPerSecond: Math.round(((tokens - 1) / genMs) * 10_000) / 10 } : {}),
  };
}
