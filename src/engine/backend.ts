import type { BackendRequest, BackendResult, ChatBackend } from '../chat/backend';
import { continuedText } from '../chat/continue';
import { GenerationAbortedError, isError } from '../errors';
import type { EngineClient } from './client';
import type { GenerateInput, GenerateOutput } from './protocol';

/** The shape both engines share: the page's EngineClient (worker) and Node's VlmEngine (in-process). */
export type EngineGenerate = (
  input: GenerateInput,
  opts: { signal?: AbortSignal; onToken?: (text: string, tokens: number) => void },
) => Promise<GenerateOutput>;

/**
 * Answers a chat request with an engine: streams the text as TokenEvents, turns the engine's stats into
 * the reply's details, and keeps the text streamed so far on a Stop.
 */
export async function answerWithEngine(generate: EngineGenerate, req: BackendRequest, model = req.settings.model): Promise<BackendResult> {
  // Continue streams the whole answer: what it had, then what the engine adds.
  let full = continuedText(req) ?? '';
  try {
    const out = await generate(
      {
        sessionId: req.sessionId,
        messages: req.messages,
        image: req.image,
        ...(req.features ? { features: req.features } : {}),
        settings: { ...req.settings, model },
        ...(req.continueAnswer ? { continueAnswer: true } : {}),
      },
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
      ...(out.features ? { features: out.features } : {}),
      details: {
        device: s.device,
        tokens: s.tokens,
        tokensPerSecond: s.tokensPerSecond,
        timeToFirstTokenMs: s.timeToFirstTokenMs,
        totalMs: s.totalMs,
        imageTokens: s.imageTokens,
        promptTokens: s.promptTokens,
        cachedTokens: s.cachedTokens,
        visionRan: s.visionRan,
        ...(s.featuresReused ? { featuresReused: true } : {}),
        finishReason: s.finishReason,
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

/** The local SmolVLM as a chat backend: the service's requests go to the engine worker. */
export class LocalBackend implements ChatBackend {
  readonly id = 'local';
  readonly acceptsImages = true;
  readonly continues = true;

  constructor(private readonly engine: EngineClient) {}

  generate(req: BackendRequest): Promise<BackendResult> {
    return answerWithEngine((input, opts) => this.engine.generate(input, opts), req);
  }
}
