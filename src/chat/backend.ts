import type { ImageFeatures } from './features';
import type { ChatMessage, ReplyDetails } from './messages';

/** Sampling and prompt settings a backend honours (each backend clamps to what it supports). */
export interface GenerationSettings {
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  maxNewTokens: number;
  repetitionPenalty: number;
  /** Empty string = no system message. */
  systemPrompt: string;
  /** Local engine only: how many image tokens to spend (see engine/image.ts). */
  imageDetail: ImageDetail;
  /** Local engine: model id from the model list; remote: the model name asked of the proxy ('' = default). */
  model: string;
  /**
   * Seeds the sampler (used when temperature > 0). Set in the settings, it asks for determinism: the same
   * answer each time, Regenerate included; unset, each sampled answer gets a fresh one (src/chat/sampling.ts).
   */
  seed?: number;
}

export type ImageDetail = 'low' | 'auto' | 'high';

export const DEFAULT_GENERATION: GenerationSettings = {
  temperature: 0,
  topP: 0.9,
  maxNewTokens: 512,
  repetitionPenalty: 1.1,
  systemPrompt: '',
  imageDetail: 'auto',
  model: 'HuggingFaceTB/SmolVLM-256M-Instruct',
};

/** Live progress of one generation, for the UI. */
export interface TokenEvent {
  /** The new text since the previous event. */
  text: string;
  /** All text so far. */
  full: string;
  tokens: number;
}

export interface BackendRequest {
  sessionId: string;
  /**
   * The model's context: the system message (if any) then the context window, in the chat-template shape.
   * Exactly one message carries an `{type:'image'}` part when `image` is set, none otherwise.
   */
  messages: ChatMessage[];
  /** The one image in context (the latest one sent in this session), or null. */
  image: { blob: Blob; hash: string } | null;
  /** Kept features of that image (any encoder): a backend that can use one skips its vision encoder. */
  features?: ImageFeatures[];
  settings: GenerationSettings;
  signal: AbortSignal;
  /**
   * Continue: `messages` ends with an answer cut at the token limit, and the backend extends it (no end of
   * turn after its text). The result's text, and each TokenEvent's `full`, is then the whole answer.
   */
  continueAnswer?: boolean;
  onToken?: (event: TokenEvent) => void;
}

export interface BackendResult {
  text: string;
  /** The model that answered (e.g. the Hub id, or the fine-tune id the proxy used). */
  model: string;
  details?: Partial<ReplyDetails>;
  /** Features the backend's vision encoder computed for the image this turn, to keep with it. */
  features?: ImageFeatures;
}

/**
 * Where answers come from: the local SmolVLM engine or the remote fine-tune through the proxy.
 * `generate` rejects with a named error from src/errors.ts; on abort it rejects with
 * GenerationAbortedError carrying the partial text in `data.partial`.
 */
export interface ChatBackend {
  /** 'local' | 'remote' | a test double's name. */
  readonly id: string;
  /** Whether this backend can see images (the remote one is text-only). */
  readonly acceptsImages: boolean;
  /**
   * Whether it can extend an answer where it was cut (`continueAnswer`): the local engine from its KV cache, an
   * inference server by prefilling the answer. Absent: it cannot (OpenAI's API starts a new answer).
   */
  readonly continues?: boolean;
  /**
   * Makes the backend ready to answer (the REST API's local engine loads its model here). Called before a new
   * turn stores anything, so a turn refused here (the model cannot be fetched) leaves nothing behind.
   */
  prepare?(): Promise<void>;
  generate(request: BackendRequest): Promise<BackendResult>;
}
