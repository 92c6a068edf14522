import { textOf, type ChatMessage } from '../chat/messages';
import { findModel } from '../engine/models';

/**
 * About how many tokens the model reads, for the meter by the composer. The tokenizer lives in the engine
 * worker (and its files may not be downloaded yet), so text is estimated: SmolLM2's tokenizer makes about one
 * token of four characters of English. Image tokens are exact (engine/image.ts plans them).
 */
const CHARS_PER_TOKEN = 4;
/** The chat template around each message ("User:", "<end_of_utterance>", the newline). */
const PER_MESSAGE = 5;
/** "Assistant:" that opens the answer. */
const GENERATION_PROMPT = 3;
/** A model not in the list (a folder): SmolVLM's window. */
const DEFAULT_LIMIT = 8192;

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** The context's text in tokens (images not included), template overhead included. */
export function estimateContextTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((n, m) => n + PER_MESSAGE + estimateTextTokens(textOf(m)), GENERATION_PROMPT);
}

/** How many tokens a model reads at most (prompt and answer). */
export function contextLimit(model: string): number {
  return findModel(model)?.contextTokens ?? DEFAULT_LIMIT;
}
