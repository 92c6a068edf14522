/**
 * Glimpse messages (SmolVLM chat-template shape) → OpenAI chat messages for the remote model.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { textOf, type ChatMessage } from '../chat/messages';

/**
 * Converts the context to OpenAI messages. The system message is the one in `messages` if any, else
 * `systemPrompt`; when both are empty none is sent and the proxy adds its own default.
 *
 * Without `imageUrl` (a text-only model, or no image in context) image parts are dropped and messages left
 * without text are skipped. With it (a `data:` URL), the message carrying the `{type:'image'}` part (the
 * context has at most one, see BackendRequest.messages) becomes `[{type:'image_url'}, {type:'text'}]`: the
 * image goes exactly once in the whole list, even if more than one message carries an image part (the last).
 */
export function toOpenAIMessages(messages: ChatMessage[], systemPrompt: string,
  imageUrl?: string): ChatCompletionMessageParam[] {
  const imageAt = imageUrl === undefined ? -1 : lastImageIndex(messages);
  const out: ChatCompletionMessageParam[] = [];
  messages.forEach((m, i) => {
    const text = textOf(m);
    if (i === imageAt && imageUrl !== undefined && m.role === 'user') {
      out.push({ role: 'user', content: [{ type: 'image_url', image_url: { url: imageUrl } }, { type: 'text', text }] });
      return;
    }
    if (text.trim().length === 0) return;
    out.push({ role: m.role, content: text });
  });
  if (!out.some((m) => m.role === 'system') && systemPrompt.trim().length > 0) {
    out.unshift({ role: 'system', content: systemPrompt });
  }
  return out;
}

function lastImageIndex(messages: ChatMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.content.some((p) => p.type === 'image')) return i;
  }
  return -1;
}
