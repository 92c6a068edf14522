import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { EngineController } from '../../engine/api';
import type { DeviceChoice, EngineStatus } from '../../engine/protocol';
import { downloadText } from '../format';

/**
 * What the page says about the model before it runs, from one source for every element: the device it
 * will run on (probed once), whether its files are already downloaded on this device (the Cache API, so a
 * return visit or an offline user is never told to download what they have), and otherwise how much the
 * first download is.
 */
export class ModelAvailability implements ReactiveController {
  /** True when the model's files for this device are in the cache; null until known. */
  downloaded: boolean | null = null;
  #key = '';
  #stale = false;
  #bound: EventTarget | null = null;
  readonly #onStatus = (e: Event) => {
    // forgetDownloads() (a model deleted or added) and a finished load announce idle or ready: ask again.
    const state = (e as CustomEvent<EngineStatus>).detail?.state;
    if (state !== 'idle' && state !== 'ready') return;
    this.#stale = true;
    this.host.requestUpdate();
  };

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly engine: () => EngineController | undefined,
    private readonly model: () => string,
  ) {
    host.addController(this);
  }

  get device(): DeviceChoice | null {
    return this.engine()?.device ?? null;
  }

  /** The first download on this device ("263 MB", "about 500 MB"); null before the device is known. */
  get size(): string | null {
    return downloadText(this.model(), this.device);
  }

  hostConnected(): void {
    this.bind();
  }

  hostDisconnected(): void {
    this.#bound?.removeEventListener('status', this.#onStatus);
    this.#bound = null;
  }

  hostUpdate(): void {
    if (this.#bound !== (this.engine() ?? null)) this.bind();
    const engine = this.engine();
    if (!engine) return;
    if (!engine.device) {
      engine.probe().then(() => this.host.requestUpdate(), () => undefined);
      return;
    }
    const model = this.model();
    const key = `${model}|${engine.device.device}|${engine.device.shaderF16}`;
    if (key === this.#key && !this.#stale) return;
    if (key !== this.#key) this.downloaded = null;
    this.#key = key;
    this.#stale = false;
    engine.isDownloaded(model).then(
      (yes) => {
        if (this.#key !== key) return;
        this.downloaded = yes;
        this.host.requestUpdate();
      },
      () => undefined,
    );
  }

  private bind(): void {
    this.#bound?.removeEventListener('status', this.#onStatus);
    this.#bound = this.engine() ?? null;
    this.#bound?.addEventListener('status', this.#onStatus);
  }
}
