/** What the REST API tells its metrics about one answered turn (src/http/metrics.ts: AnswerFacts). */
import type { ReplyDetails } from '../chat/messages';
import type { ChatResponse } from '../chat/service';
import type { AnswerFacts } from '../http/metrics';

/**
 * How the image in context was read this turn; undefined when there was none (or the engine did not say). The
 * inference-server engine says visionRan only when it sent an image (it never knows the image's token count).
 */
function vision(d: Partial<ReplyDetails>): AnswerFacts['vision'] {
  if (d.visionRan === undefined || (!d.imageTokens && d.backend !== 'openai')) return undefined;
  if (d.featuresReused) return 'stored_features';
  return d.visionRan ? 'ran' : 'kv_cache';
}

export function answerFacts(d: Partial<ReplyDetails>, result: ChatResponse, newSession: boolean): AnswerFacts {
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
  const facts: AnswerFacts = {
    ttftSeconds: seconds(d.timeToFirstTokenMs),
    totalSeconds: seconds(d.totalMs),
    promptTokens: d.promptTokens,
    completionTokens: d.tokens,
    cachedTokens: d.cachedTokens,
    vision: vision(d),
    messages: result.conversation_length,
    newSession,
    sessionId: result.session_id,
  };
  return facts;
}
