import type { BackendRequest, BackendResult, ChatBackend } from '../../chat/backend';
import type { EngineController } from '../../engine/api';
import { GenerationAbortedError } from '../../errors';
import type { RemoteBackendOptions } from '../../remote/backend';

/**
 * The local backend, made to load (download) the model first. The user's message is already saved and on
 * screen, and the status bar shows the download, so a first question simply waits for the model.
 */
export class LoadingBackend implements ChatBackend {
  readonly id: string;
  readonly acceptsImages: boolean;
  readonly continues: boolean;

  constructor(private readonly engine: EngineController, private readonly inner: ChatBackend) {
    this.id = inner.id;
    this.acceptsImages = inner.acceptsImages;
    this.continues = inner.continues === true;
  }

  async generate(request: BackendRequest): Promise<BackendResult> {
    const { signal } = request;
    if (this.engine.status.state !== 'ready' || this.engine.model !== request.settings.model) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(new GenerationAbortedError('Stopped.', { partial: '' }));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        this.engine.load(request.settings.model).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    }
    return this.inner.generate(request);
  }
}

/**
 * The remote backend, loaded on first use: the openai SDK it wraps stays out of the first download of
 * people who never switch to the remote model.
 */
export class LazyRemoteBackend implements ChatBackend {
  readonly id = 'remote';
  #inner: Promise<ChatBackend> | null = null;

  constructor(private readonly options: RemoteBackendOptions) {}

  /** Follows the "This model reads images" setting (options.acceptsImages, read at each call). */
  get acceptsImages(): boolean {
    const a = this.options.acceptsImages;
    return typeof a === 'function' ? a() : a ?? false;
  }

  async generate(request: BackendRequest): Promise<BackendResult> {
    this.#inner ??= import('../../remote/backend').then(({ RemoteBackend }) => new RemoteBackend(this.options));
    return (await this.#inner).generate(request);
  }
}
