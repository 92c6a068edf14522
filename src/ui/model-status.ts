import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { EngineController, EngineNotice } from '../engine/api';
import type { LoadProgress } from '../engine/protocol';
import { engineContext, generationContext, settingsContext } from './contexts';
import { ListenController } from './controllers/listen';
import { LoadModelEvent } from './events';
import { deviceLabel, downloadText, mb, modelLabel, percent } from './format';
import type { GenerationTracker } from './services/generation';
import { isLocalModel, type SettingsStore } from './services/settings';
import { progressStyles } from './styles/controls';
import { base } from './styles/theme';
import './error-banner';

/**
 * What the engine is doing, in words: not downloaded yet (and how big), downloading (a bar per file and
 * overall, MB and percent), ready, generating (tokens/s), or failed (and what to do); plus the device in use
 * and why ("WebGPU on …" or "WASM because … — slower").
 *
 * @fires load-model - Download now / Try again was pressed
 */
@customElement('model-status')
export class ModelStatus extends LitElement {
  static override styles = [
    base,
    progressStyles,
    css`
      :host {
        display: block;
        font-size: 0.85rem;
      }
      .line {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.3rem 0.6rem;
        min-height: 36px;
      }
      .dot {
        width: 9px;
        height: 9px;
        border-radius: 50%;
        background: var(--text-muted);
        flex: none;
      }
      .dot.ready {
        background: var(--success);
      }
      .dot.busy {
        background: var(--accent);
        animation: blink 1s infinite;
      }
      .dot.error {
        background: var(--danger);
      }
      @keyframes blink {
        50% {
          opacity: 0.35;
        }
      }
      @media (prefers-reduced-motion: reduce) {
        .dot.busy {
          animation: none;
        }
      }
      .state {
        font-weight: 600;
      }
      .device {
        color: var(--text-muted);
      }
      .size {
        white-space: nowrap;
      }
      .btn {
        min-height: 30px;
        padding: 0.15rem 0.7rem;
        font-size: 0.82rem;
      }
      .progress {
        display: grid;
        gap: 0.45rem;
        padding: 0.5rem 0 0.2rem;
        max-width: 40rem;
      }
      .file {
        display: grid;
        grid-template-columns: minmax(0, 1fr) auto;
        gap: 0.15rem 0.6rem;
        font-size: 0.78rem;
      }
      .file .name {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        color: var(--text-muted);
      }
      .file .num {
        font-variant-numeric: tabular-nums;
        color: var(--text-muted);
      }
      .overall {
        font-size: 0.85rem;
      }
      .overall .name,
      .overall .num {
        color: var(--text);
        font-weight: 600;
      }
      progress {
        grid-column: 1 / -1;
        --bar-height: 6px;
      }
      .overall progress {
        --bar-height: 8px;
      }
      error-banner {
        margin-top: 0.4rem;
      }
    `,
  ];

  @consume({ context: engineContext }) @property({ attribute: false }) engine?: EngineController;
  @consume({ context: generationContext }) @property({ attribute: false }) generation?: GenerationTracker;
  @consume({ context: settingsContext }) @property({ attribute: false }) settings?: SettingsStore;

  @state() private _notice: EngineNotice | null = null;

  constructor() {
    super();
    new ListenController(this, () => this.engine, ['status', 'notice'], (e) => {
      if (e.type === 'notice') this._notice = (e as CustomEvent<EngineNotice>).detail;
    });
    new ListenController(this, () => this.generation, ['change']);
    new ListenController(this, () => this.settings, ['change']);
  }

  override firstUpdated() {
    // Say where the model will run before anything downloads (probe() is cached, and emits no event).
    if (this.settings?.value.backend !== 'remote') {
      this.engine?.probe().then(() => this.requestUpdate(), () => undefined);
    }
  }

  override render() {
    const settings = this.settings?.value;
    if (settings?.backend === 'remote') {
      return html`<div class="line" role="status">
        <span class="dot ${this.generation?.busy ? 'busy' : 'ready'}"></span>
        <span class="state">${this.generation?.busy ? this.speed('Answering') : 'Remote model'}</span>
        <span class="device">${settings.remoteModel || 'proxy default'} via ${settings.proxyUrl || 'no proxy set'} · text only</span>
      </div>`;
    }
    const engine = this.engine;
    if (!engine) return nothing;
    const s = engine.status;
    const wanted = settings?.localModel ?? engine.model;
    const download = downloadText(wanted, engine.device);
    return html`
      <span class="sr-only" role="status">${this.stateWord(s.state)}</span>
      <div class="line">
        ${s.state === 'idle'
          ? isLocalModel(wanted)
            ? html`<span class="dot"></span><span class="state">${modelLabel(wanted)}</span>
                <span>on this device, not loaded yet</span>
                <button class="btn download" type="button" @click=${this.load}>Load now</button>`
            : html`<span class="dot"></span><span class="state">${modelLabel(wanted)}</span>
                <span>not downloaded yet${download ? html` (<span class="size">${download}</span>, once)` : ''}</span>
                <button class="btn download" type="button" @click=${this.load}>Download now</button>`
          : s.state === 'loading'
            ? html`<span class="dot busy"></span><span class="state">${this.loadingText(s.progress, s.model)}</span>`
            : s.state === 'ready'
              ? html`<span class="dot ready"></span><span class="state">Ready</span><span>${modelLabel(s.model)}</span>`
              : s.state === 'generating'
                ? html`<span class="dot busy"></span><span class="state">${this.speed('Generating')}</span><span>${modelLabel(s.model)}</span>`
                : s.state === 'restarting'
                  ? html`<span class="dot busy"></span><span class="state">Restarting the engine</span><span>${s.reason}</span>`
                  : html`<span class="dot error"></span><span class="state">The model is not running</span>`}
        ${this.deviceText()}
      </div>
      ${s.state === 'loading' && s.progress ? this.renderProgress(s.progress) : nothing}
      ${s.state === 'error'
        ? html`<error-banner .error=${s.error} .dismissible=${false}>
            <button class="btn" type="button" @click=${this.load}>Try again</button>
          </error-banner>`
        : nothing}
      ${this._notice
        ? html`<error-banner level="warning" .error=${{ name: 'Notice', message: this._notice.message }} @dismiss=${() => (this._notice = null)}></error-banner>`
        : nothing}
    `;
  }

  /** A coarse word for screen readers (the visible line changes with every progress event). */
  private stateWord(state: string): string {
    return { idle: 'Model not downloaded yet', loading: 'Loading the model', ready: 'Model ready', generating: 'Generating', restarting: 'Restarting the engine', error: 'The model failed' }[state] ?? '';
  }

  private speed(verb: string): string {
    const tps = this.generation?.live?.tokensPerSecond;
    return tps ? `${verb} · ${tps.toFixed(1)} tokens/s` : `${verb}…`;
  }

  private loadingText(p: LoadProgress | null, model: string): string {
    if (!p || p.total === 0) return `Loading ${modelLabel(model)}…`;
    const done = p.files.length > 0 && p.files.every((f) => f.done);
    return done
      ? `Starting ${modelLabel(model)}…`
      : `Downloading ${modelLabel(model)} · ${mb(p.loaded)} of ${mb(p.total)} (${percent(p.loaded, p.total)}%)`;
  }

  private deviceText() {
    const d = this.engine?.device;
    if (!d) return nothing;
    const text = d.device === 'webgpu'
      ? `Running on WebGPU${d.adapter ? ` (${d.adapter})` : ''}`
      : `Running on ${deviceLabel(d.device)}${d.fallback ? ' — slower' : ''}`;
    return html`<span class="device" title=${d.reason}>${text}${d.reason && d.device !== 'webgpu' ? html`: ${d.reason}` : nothing}</span>`;
  }

  private renderProgress(p: LoadProgress) {
    return html`<div class="progress" aria-label="Model download">
      <div class="file overall">
        <span class="name">All files</span>
        <span class="num">${mb(p.loaded)} / ${mb(p.total)} · ${percent(p.loaded, p.total)}%</span>
        <progress max="100" .value=${percent(p.loaded, p.total)} aria-label="Overall download progress"></progress>
      </div>
      ${p.files.map(
        (f) => html`<div class="file">
          <span class="name">${f.file}</span>
          <span class="num">${f.done ? 'done' : `${mb(f.loaded)} / ${mb(f.total)} · ${percent(f.loaded, f.total)}%`}</span>
          <progress max="100" .value=${f.done ? 100 : percent(f.loaded, f.total)} aria-label=${`Download of ${f.file}`}></progress>
        </div>`,
      )}
    </div>`;
  }

  private load() {
    this.dispatchEvent(new LoadModelEvent());
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'model-status': ModelStatus;
  }
}
