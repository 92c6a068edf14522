import type { GenerationSettings } from './backend';
import { isCutOff, textOf, type ChatMessage, type ReplyDetails, type StoredMessage } from './messages';
import { answerSettings, randomSeed } from './sampling';

/**
 * Continue: an answer cut at the token limit (details.finishReason 'length') is extended where it stopped,
 * the same message growing, never a new turn. Pure rules; the chat service applies them.
 */

/**
 * Whether Continue can extend this message: an answer with text that the token limit ended (not the model),
 * or that the user stopped.
 */
export function canContinue(m: Pick<StoredMessage, 'role' | 'content' | 'status' | 'details'> | undefined): boolean {
  if (!m || m.role !== 'assistant' || continuationPrefix(textOf(m)) === '') return false;
  return m.status === 'stopped' || isCutOff(m);
}


/**
 * The answer a Continue request extends, as the model goes on from it (continuationPrefix): the text of its
 * last message when that is an answer; undefined for a new answer (or a request with no answer last).
 */
export function continuedText(req: { messages: readonly Pick<ChatMessage, 'role' | 'content'>[]; continueAnswer?: boolean }): string | undefined {
  const last = req.messages.at(-1);
  return req.continueAnswer && last?.role === 'assistant' ? continuationPrefix(textOf(last)) : undefined;
}

/**
 * The sampling a continuation runs with: the chat's, at the temperature the answer was sampled at (a
 * regenerated answer goes on as it began), with a fresh seed unless the user fixed one.
 */
export function continueSettings(g: GenerationSettings, had: ReplyDetails | undefined, seed = randomSeed): GenerationSettings {
  if (had?.temperature === undefined) return answerSettings(g, seed);
  return answerSettings({ ...g, temperature: had.temperature }, seed);
}

/**
 * The text the model goes on from. A cut at the token limit can fall inside a character (its bytes split over
 * two tokens): the decoded text then ends in U+FFFD, which is left out so the model writes that character whole.
 */
export function continuationPrefix(text: string): string {
  return text.replace(/\uFFFD+$/u, '');
}
