import { consume } from '@lit/context';
import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { EngineController, EngineNotice } from '../engine/api';
import type { EngineStatus, LoadProgress } from '../engine/protocol';
import { RemoteUnavailableError, isError } from '../errors';
import { checkProxy, type ProxyHealth } from '../remote/health';
import { engineContext, generationContext, settingsContext } from './contexts';
import { DownloadRate, speedText, timeLeftText } from './controllers/download-rate';
import { ListenController } from './controllers/listen';
import { ModelAvailability } from './controllers/model-availability';
import { describeError } from './errors';
import { LoadModelEvent } from './events';
import { GPU_HELP_URL, deviceName, deviceWhy, gpuHelps, mb, modelLabel, percent, statusFor } from './format';
import type { GenerationTracker } from './services/generation';
import { isLocalModel, remoteReadsImages, type SettingsStore } from './services/settings';
import { stageText } from './stage';
import './error-banner';
import { icons } from './styles/icons';
import { modelStatusStyles } from './styles/model-status';

/**
 * What the engine is doing, in one short line: on this device or not downloaded yet (and how big), the
 * download (one bar: MB, speed, time left; the files behind “Details”), starting, ready, the answer's stage,
 * or what failed (the full card with its actions sits in the conversation); and the device it runs on — or
 * will run on, until it runs — and why. For the remote backend: whether the proxy answers.
 *
 * @fires load-model - Download now was pressed
 */
@customElement('model-status')
export class ModelStatus extends LitElement {
  static override styles = modelStatusStyles;

  @consume({ context: engineContext }) @property({ attribute: false }) engine?: EngineController;
  @consume({ context: generationContext }) @property({ attribute: false }) generation?: GenerationTracker;
  @consume({ context: settingsContext }) @property({ attribute: false }) settings?: SettingsStore;

  @state() private _notice: EngineNotice | null = null;
  /** Phone: the details of the line are shown (the More button). */
  @property({ type: Boolean, reflect: true }) expanded = false;
  /** The remote proxy's health (null: not checked, or checking). */
  @state() private _proxy: ProxyHealth | null = null;
  @state() private _checking = false;

  readonly #availability = new ModelAvailability(this, () => this.engine, () => this.wanted);
  readonly #rate = new DownloadRate();
  #proxyChecked = '';
  /** Download now had the keyboard: give it to the progress (or the status line) once the button goes. */
  #refocus = false;

  constructor() {
    super();
    new ListenController(this, () => this.engine, ['status', 'notice'], (e) => {
      if (e.type === 'notice') this._notice = (e as CustomEvent<EngineNotice>).detail;
      else this.trackRate((e as CustomEvent<EngineStatus>).detail);
    });
    new ListenController(this, () => this.generation, ['change'], () => {
      // A remote answer that failed to connect: the proxy may have gone down since it was checked.
      if (this.remote && isError(this.generation?.lastError, RemoteUnavailableError)) void this.checkProxy();
    });
    new ListenController(this, () => this.settings, ['change']);
  }

  private get wanted(): string {
    return this.settings?.value.localModel ?? this.engine?.model ?? '';
  }

  private get remote(): boolean {
    return this.settings?.value.backend === 'remote';
  }

  override willUpdate(_changed: PropertyValues<this>) {
    // Checked when the remote backend is chosen (or its URL changes).
    const url = this.settings?.value.proxyUrl ?? '';
    if (this.remote && this.#proxyChecked !== url) void this.checkProxy();
    if (!this.remote) this.#proxyChecked = '';
  }

  override render() {
    if (this.remote) return this.renderRemote();
    const engine = this.engine;
    if (!engine) return nothing;
    const s = statusFor(engine.status, this.wanted);
    return html`
      <span class="sr-only" role="status">${this.stateWord(s)}</span>
      <div class="line" tabindex="-1">${this.renderState(s)} ${this.renderMore()} ${this.renderDevice(s)}</div>
      ${s.state === 'loading' && s.progress && downloading(s.progress) ? this.renderDownload(s.progress) : nothing}
      ${this._notice
        ? html`<error-banner level="warning" .error=${{ name: 'Notice', message: this._notice.message }} @dismiss=${() => (this._notice = null)}></error-banner>`
        : nothing}
    `;
  }

  private renderState(s: EngineStatus) {
    const wanted = this.wanted;
    switch (s.state) {
      case 'idle':
        return html`${this.head('', modelLabel(wanted))} ${this.renderAvailability(wanted)}`;
      case 'loading':
        return html`${this.head('busy', downloading(s.progress) ? 'Downloading' : 'Starting')} <span class="model">${modelLabel(s.model)}</span>`;
      case 'ready':
        return html`${this.head('ready', 'Ready')} <span class="model">${modelLabel(s.model)}</span>`;
      case 'generating':
        return html`${this.head('busy', this.speed(stageText(s) ?? 'Writing'))} <span class="model">${modelLabel(s.model)}</span>`;
      case 'restarting':
        return html`${this.head('busy', 'Restarting the engine')} <span class="sub">${s.reason}</span>`;
      case 'error':
        // One line here; the card with what to do is in the conversation, where the question was asked.
        return html`${this.head('error', describeError(s.error).title)} <span class="model">${modelLabel(s.model)}</span>`;
    }
  }

  /** The dot and the state word, kept together when the line wraps. */
  private head(dot: string, word: string) {
    return html`<span class="head"><span class="dot ${dot}"></span><span class="state ${dot === 'error' ? 'error' : ''}">${word}</span></span>`;
  }

  private renderAvailability(model: string) {
    const a = this.#availability;
    if (isLocalModel(model) || a.downloaded) return html`<span class="sub on-device">On this device · loads when you ask</span>`;
    if (a.downloaded === null) return nothing;
    return html`<span class="sub">Not downloaded yet${a.size ? html` (<span class="size">${a.size}</span>, once)` : ''}</span>
      <button class="btn download" type="button" @click=${this.load}>Download<span class="wide"> now</span></button>`;
  }

  /** On a phone: shows or hides where the model runs and why (one line when idle). */
  private renderMore() {
    return html`<button class="icon-btn more" type="button" aria-label="More about the model" aria-expanded=${this.expanded ? 'true' : 'false'}
      @click=${() => (this.expanded = !this.expanded)}>${this.expanded ? icons.chevronUp : icons.info}</button>`;
  }

  /** "Will run on …" until the model runs there, then "Running on …"; with the reason when it is not the GPU. */
  private renderDevice(s: EngineStatus) {
    const d = this.engine?.device;
    if (!d) return nothing;
    const running = s.state === 'ready' || s.state === 'generating';
    const why = deviceWhy(d);
    return html`<span class="device" title=${d.reason}
      >${running ? 'Running on' : 'Will run on'} ${deviceName(d)}${why ? ` — ${why}` : ''}${gpuHelps(d)
        ? html` · <a href=${GPU_HELP_URL} target="_blank" rel="noopener noreferrer">How to turn on the GPU</a>`
        : nothing}</span
    >`;
  }

  private renderDownload(p: LoadProgress) {
    const speed = this.#rate.bytesPerSecond;
    const left = this.#rate.secondsLeft(p.total);
    const figures = [`${mb(p.loaded)} of ${mb(p.total)}`, speed ? speedText(speed) : null, left !== null ? timeLeftText(left) : null];
    return html`<div class="progress" tabindex="-1" role="group" aria-label="Model download">
      <span class="figures">${figures.filter(Boolean).join(' · ')}</span>
      <span class="percent">${percent(p.loaded, p.total)}%</span>
      <progress max="100" .value=${percent(p.loaded, p.total)} aria-label="Download progress"></progress>
      <details>
        <summary>Details</summary>
        <ul tabindex="0" aria-label="Files">
          ${p.files.map(
            (f) => html`<li><span class="name">${fileName(f.file)}</span><span
                >${f.done ? 'done' : html`<span class="wide">${mb(f.loaded)} / ${mb(f.total)}</span><span class="narrow">${percent(f.loaded, f.total)}%</span>`}</span
              ></li>`,
          )}
        </ul>
      </details>
    </div>`;
  }

  private renderRemote() {
    const settings = this.settings!.value;
    const busy = this.generation?.busy;
    const proxy = this._proxy;
    const down = proxy !== null && !proxy.ok;
    const dot = busy ? 'busy' : down ? 'warning' : proxy?.ok ? 'ready' : '';
    const word = busy ? this.speed('Answering') : down ? 'Proxy not reachable' : proxy?.ok ? 'Remote model ready' : 'Checking the proxy…';
    return html`<div class="line" role="status">
        ${this.head(dot, word)}
        <span class="device">${settings.remoteModel || proxy?.model || 'proxy default'} via ${settings.proxyUrl || 'no proxy set'}${remoteReadsImages(settings) ? '' : ' · text only'}</span>
      </div>
      ${down
        ? html`<error-banner level="warning" .dismissible=${false} .error=${{ name: 'RemoteUnavailableError', message: proxy.message }}>
            <button class="btn recheck" type="button" ?disabled=${this._checking} @click=${() => void this.checkProxy()}>
              ${this._checking ? 'Checking…' : 'Check again'}
            </button>
          </error-banner>`
        : nothing}`;
  }

  private async checkProxy(): Promise<void> {
    const url = this.settings?.value.proxyUrl ?? '';
    this.#proxyChecked = url;
    this._checking = true;
    try {
      const health = await checkProxy(url);
      if (this.settings?.value.proxyUrl === url) {
        this._proxy = health;
        this.keepProxyModels(url, health);
      }
    } finally {
      this._checking = false;
    }
  }

  /** What the proxy said of its models, kept in the settings: "reads images" follows it (remoteReadsImages). */
  private keepProxyModels(url: string, health: ProxyHealth): void {
    // An older proxy that does not list its image models: the model's name decides.
    if (!health.ok || health.model === undefined || health.imageModels === undefined || !this.settings) return;
    const next = { url, defaultModel: health.model, models: health.models ?? [health.model], imageModels: health.imageModels };
    if (JSON.stringify(this.settings.value.proxyModels) !== JSON.stringify(next)) this.settings.update({ proxyModels: next });
  }

  private trackRate(s: EngineStatus): void {
    if (s.state === 'loading' && s.progress) this.#rate.update(s.progress.loaded);
    else this.#rate.reset();
  }

  /** A coarse word for screen readers (the visible line changes with every progress event). */
  private stateWord(s: EngineStatus): string {
    if (s.state === 'idle') return this.#availability.downloaded ? 'Model on this device' : 'Model not downloaded yet';
    if (s.state === 'error') return `The model failed: ${describeError(s.error).title}`;
    return { loading: 'Loading the model', ready: 'Model ready', generating: 'Generating', restarting: 'Restarting the engine' }[s.state];
  }

  private speed(verb: string): string {
    const tps = this.generation?.live?.tokensPerSecond;
    return tps ? `${verb} · ${tps.toFixed(1)} tokens/s` : verb;
  }

  private load() {
    // The button goes as the download starts: the keyboard moves to what replaced it, not to the page body.
    this.#refocus = this.shadowRoot?.activeElement?.matches('button.download') ?? false;
    this.dispatchEvent(new LoadModelEvent());
  }

  override updated() {
    if (!this.#refocus || this.shadowRoot?.querySelector('button.download')) return;
    this.#refocus = false;
    this.shadowRoot?.querySelector<HTMLElement>('.progress, .line')?.focus();
  }
}

/** A file's path with break points after "/" and "_" only (a narrow screen never breaks inside a word). */
function fileName(path: string) {
  return path.split(/(?<=[/_])/).map((part, i) => (i ? html`<wbr />${part}` : part));
}

/** Bytes are still coming (not only the model starting from files already here). */
function downloading(p: LoadProgress | null): boolean {
  return !!p && p.total > 0 && !p.files.every((f) => f.done);
}

declare global {
  interface HTMLElementTagNameMap {
    'model-status': ModelStatus;
  }
}
