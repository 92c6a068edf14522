/**
 * Glimpse messages (SmolVLM chat-template shape) → OpenAI chat messages for the text-only remote model.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { textOf, type ChatMessage } from '../chat/messages';

/**
 * Converts the context to OpenAI text messages: image parts are dropped (the remote model does not see
 * images), messages left without text are skipped. The system message is the one in `messages` if any, else
 * `systemPrompt`; when both are empty none is sent and the proxy adds its own default.
 */
export function toOpenAIMessages(messages: ChatMessage[], systemPrompt: string): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  for (const m of messages) {
    const text = textOf(m);
    if (text.trim().length === 0) continue;
    out.push({ role: m.role, content: text });
  }
  if (!out.some((m) => m.role === 'system') && systemPrompt.trim().length > 0) {
    out.unshift({ role: 'system', content: systemPrompt });
  }
  return out;
}

/** Shown by the UI next to the composer when the remote backend is chosen and an image is in context. */
export const REMOTE_IMAGE_NOTICE =
  'The remote model reads text only: the image in this chat is not sent to it.';
