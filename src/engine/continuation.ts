/**
 * Continue (an answer cut at the token limit, extended where it stopped): the prompt it is read from, and
 * when the chat's KV cache can be kept whole.
 */
import { continuedText } from '../chat/continue';
import { makeContent, textOf, type ChatMessage } from '../chat/messages';
import { CannotContinueError } from '../errors';
import { commonPrefixLength } from './prompt';
import type { GenerateInput } from './protocol';
import { openEnded, renderPrompt, type RenderedPrompt } from './tokens';

/** The chat template's render of messages, with or without the generation prompt ("Assistant:"). */
export type RenderTemplate = (messages: ChatMessage[], generationPrompt: boolean) => string;

/**
 * The template's text for a turn: the conversation and "Assistant:" for a new answer; for Continue, the
 * conversation cut open after the last answer's text (as `continue_final_message` renders it), with the text
 * it goes on from (a character the cut split in two left out: see continuationPrefix).
 */
export function renderTurn(input: GenerateInput, render: RenderTemplate): { rendered: RenderedPrompt; answerSoFar: string | null } {
  if (!input.continueAnswer) return { rendered: renderPrompt(input.messages, (m) => render(m, true)), answerSoFar: null };
  const soFar = continuedText(input) ?? '';
  const messages = [...input.messages.slice(0, -1), { ...input.messages.at(-1)!, content: makeContent(soFar, false) }];
  const open = soFar ? openEnded(renderPrompt(messages, (m) => render(m, false)), soFar) : null;
  if (!open) throw new CannotContinueError('There is nothing to continue: the conversation does not end with an answer that has text.');
  return { rendered: open, answerSoFar: soFar };
}

/**
 * Right after an answer was cut, the chat's cache holds the prompt and the answer's tokens as they were
 * sampled. When the cache starts with the conversation's prompt (`head`: it, up to "Assistant:") and its
 * tokens after it decode to the stored answer, the turn can feed exactly those tokens: the cache is kept
 * whole and the answer goes on as one longer answer would have, even where its text re-tokenizes otherwise
 * (a character cut in two by the limit, a split the tokenizer would not make). Returns the token index the
 * answer starts at, or null (a reload, another turn since: the canonical open prompt stands).
 */
export function sampledAnswerStart(
  cachedIds: readonly number[],
  head: readonly number[],
  messages: readonly ChatMessage[],
  decodeAnswer: (ids: number[]) => string,
): number | null {
  const from = head.length;
  if (cachedIds.length <= from || commonPrefixLength(cachedIds, head) < from) return null;
  const stored = messages.at(-1);
  return stored && decodeAnswer(cachedIds.slice(from)) === textOf(stored) ? from : null;
}
