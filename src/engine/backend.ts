import type { BackendRequest, BackendResult, ChatBackend } from '../chat/backend';
import { GenerationAbortedError, isError } from '../errors';
import type { EngineClient } from './client';

/** The local SmolVLM as a chat backend: the service's requests go to the engine worker. */
export class LocalBackend implements ChatBackend {
  readonly id = 'local';
  readonly acceptsImages = true;

  constructor(private readonly engine: EngineClient) {}

  async generate(req: BackendRequest): Promise<BackendResult> {
    let full = '';
    try {
      const out = await this.engine.generate(
        { sessionId: req.sessionId, messages: req.messages, image: req.image, settings: req.settings },
        {
          signal: req.signal,
          onToken: (text, tokens) => {
            full += text;
            req.onToken?.({ text, full, tokens });
          },
        },
      );
      const s = out.stats;
      return {
        text: out.text,
        model: s.model,
        details: {
          device: s.device,
          tokens: s.tokens,
          tokensPerSecond: s.tokensPerSecond,
          timeToFirstTokenMs: s.timeToFirstTokenMs,
          totalMs: s.totalMs,
          imageTokens: s.imageTokens,
        },
      };
    } catch (err) {
      if (isError(err, GenerationAbortedError)) {
        const e = err as GenerationAbortedError;
        if (typeof e.data.partial !== 'string') e.data.partial = full;
      }
      throw err;
    }
  }
}
