import { GenerationAbortedError, GlimpseError, isError, serializeError } from '../errors';
import type { ChatRequest, ChatResponse, ChatSettings } from './api';
import type { ChatBackend, GenerationSettings } from './backend';
import { buildContext } from './context';
import type { ImageFeatures, ImageFeatureStore } from './features';
import { nowIso, textOf, type ReplyDetails, type StoredMessage } from './messages';
import type { NewMessage, SessionRepository } from './repository';
import { answerSettings, samples } from './sampling';

export interface TurnDeps {
  store: SessionRepository;
  backend: () => ChatBackend;
  settings: () => ChatSettings;
  /** How often partial answers are written to the store while streaming (ms). */
  persistEveryMs: number;
  features?: ImageFeatureStore;
  onWarning?: (message: string) => void;
}

/** Where the empty answer is stored (appended by default; Regenerate makes it a new version of the old one). */
export type PlaceAnswer = (answer: NewMessage) => Promise<StoredMessage>;

/**
 * A turn's request, with the sampling it is answered with when not the chat's (Regenerate's), and for
 * Continue the answer it extends (the last message of the transcript, grown in place).
 */
export type TurnRequest = Omit<ChatRequest, 'session_id'> & { generation?: GenerationSettings; continuing?: StoredMessage };

/**
 * One answer: the model's context built from the saved transcript, the empty answer stored before the
 * backend starts, partial text saved as it streams, and the outcome (complete, stopped or failed, with the
 * text so far) saved at the end. The caller holds the session's lock.
 */
export class TurnWriter {
  #featuresWarned = false;

  constructor(private readonly deps: TurnDeps) {}

  async respond(
    sessionId: string,
    text: string,
    userMessage: StoredMessage | null,
    req: TurnRequest,
    place: PlaceAnswer = (answer) => this.deps.store.append(sessionId, answer),
  ): Promise<ChatResponse> {
    const { store } = this.deps;
    const session = await store.require(sessionId);
    const settings = this.deps.settings();
    const generation = answerSettings(req.generation ?? settings.generation);
    const context = buildContext(await store.messages(sessionId), {
      windowSize: settings.windowSize,
      systemPrompt: settings.generation.systemPrompt,
      imageHash: session.imageHash,
    });
    const backend = this.deps.backend();
    const imageRecord = context.imageHash ? await store.getImage(context.imageHash) : undefined;
    const features = imageRecord && this.deps.features ? await this.deps.features.featuresOf(imageRecord.hash).catch(() => []) : undefined;

    const sampling = samples(generation) ? { temperature: generation.temperature, seed: generation.seed } : {};
    const before = req.continuing;
    const assistant = before
      ? await store.update({ ...before, status: 'streaming', details: { ...before.details!, ...sampling } })
      : await place({
        role: 'assistant',
        content: [{ type: 'text', text: '' }],
        timestamp: nowIso(),
        status: 'streaming',
        details: { model: generation.model, backend: backend.id, ...sampling },
      });
    req.onSaved?.({ sessionId, userMessage, assistantMessage: assistant });

    const partials = new PartialSaver(store, assistant, this.deps.persistEveryMs);
    const signal = req.signal ?? new AbortController().signal;
    try {
      const result = await backend.generate({
        sessionId,
        messages: context.messages,
        image: imageRecord ? { blob: imageRecord.blob, hash: imageRecord.hash } : null,
        ...(features?.length ? { features } : {}),
        settings: generation,
        signal,
        ...(before ? { continueAnswer: true } : {}),
        onToken: (event) => {
          req.onToken?.({ ...event, sessionId, messageId: assistant.id });
          partials.token(event.full);
        },
      });
      await partials.settled();
      if (imageRecord && result.features) await this.keepFeatures(imageRecord.hash, result.features);
      const details = { ...assistant.details, ...result.details, model: result.model, backend: backend.id };
      await partials.save({
        content: [{ type: 'text', text: result.text }],
        status: 'complete',
        details: before ? continuedDetails(before.details, details) : details,
      });
      const after = await store.require(sessionId);
      return {
        message: text,
        response: result.text,
        has_image: context.imageHash !== null,
        model_used: result.model,
        session_id: sessionId,
        conversation_length: after.messageCount,
        ...(details.finishReason ? { finish_reason: details.finishReason } : {}),
      };
    } catch (err) {
      await partials.settled();
      const aborted = isError(err, GenerationAbortedError) || signal.aborted;
      const kept = err instanceof GlimpseError && typeof err.data.partial === 'string' ? err.data.partial : partials.text;
      const { name, message } = serializeError(err);
      await partials
        .save({
          content: [{ type: 'text', text: kept }],
          status: aborted ? 'stopped' : 'error',
          ...(aborted ? {} : { error: { name, message } }),
        })
        .catch(() => undefined);
      if (aborted && !isError(err, GenerationAbortedError)) {
        throw new GenerationAbortedError('Stopped.', { partial: kept });
      }
      throw err;
    }
  }

  /**
   * Keeps what the vision encoder computed with the picture. Only an optimisation: a failure (a full disk,
   * the storage quota) costs no message, and the user is told once.
   */
  private async keepFeatures(hash: string, f: ImageFeatures): Promise<void> {
    try {
      await this.deps.features?.keepFeatures(hash, f);
    } catch (err) {
      if (this.#featuresWarned) return;
      this.#featuresWarned = true;
      this.deps.onWarning?.(
        `Storage is full, so this picture's analysis was not saved: after a reload it will be read again (slower). ` +
          `Your messages are saved. (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
}

/** A continued answer's details: this run's figures, its tokens counted with the ones it had. */
function continuedDetails(had: ReplyDetails | undefined, now: ReplyDetails): ReplyDetails {
  return { ...now, tokens: (had?.tokens ?? 0) + (now.tokens ?? 0), continued: (had?.continued ?? 0) + 1 };
}

/**
 * The answer's text saved while it streams, at most every `everyMs`, so a reload mid-answer loses nothing.
 * Writes run one after another, each on the latest stored revision (the store refuses stale ones).
 */
class PartialSaver {
  /** The text streamed so far. */
  text = '';
  #current: StoredMessage;
  #lastSaved = Date.now();
  #saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: SessionRepository,
    answer: StoredMessage,
    private readonly everyMs: number,
  ) {
    this.#current = answer;
    this.text = textOf(answer);
  }

  token(full: string): void {
    this.text = full;
    if (Date.now() - this.#lastSaved < this.everyMs) return;
    this.#lastSaved = Date.now();
    const text = full;
    this.#saving = this.#saving.then(() => this.save({ content: [{ type: 'text', text }] }).catch(() => undefined));
  }

  /** Resolves once the partial writes under way are done. */
  settled(): Promise<void> {
    return this.#saving;
  }

  async save(patch: Partial<StoredMessage>): Promise<void> {
    this.#current = await this.store.update({ ...this.#current, ...patch });
  }
}
