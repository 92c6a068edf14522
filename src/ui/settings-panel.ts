import { consume } from '@lit/context';
import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { EngineController } from '../engine/api';
import { MODELS } from '../engine/models';
import { engineContext, settingsContext } from './contexts';
import { ListenController } from './controllers/listen';
import { SettingsToggleEvent, type SettingsTab } from './events';
import { devicePath, downloadText, modelLabel } from './format';
import { DEFAULT_SETTINGS, type AppSettings, type SettingsStore } from './services/settings';
import { fieldStyles } from './styles/controls';
import { base } from './styles/theme';
import { icons } from './styles/icons';

const TABS: { id: SettingsTab; label: string }[] = [
  { id: 'general', label: 'General' },
  { id: 'storage', label: 'Storage & models' },
];

/**
 * Settings in a modal dialog with two tabs. General: backend (local or remote), model, image detail,
 * temperature, top-p, max tokens, repetition penalty, system prompt, context window; each change applies and is saved at once.
 * Storage & models: <storage-panel>, loaded when the tab is first opened (it is not needed to start).
 *
 * @fires settings-toggle - the dialog closed (open: false)
 */
@customElement('settings-panel')
export class SettingsPanel extends LitElement {
  static override styles = [
    base,
    fieldStyles,
    css`
      dialog {
        width: min(34rem, calc(100vw - 1.5rem));
        max-height: calc(100dvh - 2rem);
        padding: 0;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        background: var(--bg);
        color: var(--text);
        box-shadow: var(--shadow);
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 0.45);
      }
      header {
        position: sticky;
        top: 0;
        z-index: 1;
        background: var(--bg);
        border-bottom: 1px solid var(--border);
      }
      .title {
        display: flex;
        align-items: center;
        justify-content: space-between;
        padding: 0.8rem 0.8rem 0.2rem 1.2rem;
      }
      [role='tablist'] {
        display: flex;
        gap: 0.2rem;
        padding: 0 1rem;
      }
      [role='tab'] {
        border: 0;
        background: transparent;
        padding: 0.55rem 0.6rem;
        font-size: 0.92rem;
        color: var(--text-muted);
        border-bottom: 2px solid transparent;
        margin-bottom: -1px;
      }
      [role='tab'][aria-selected='true'] {
        color: var(--text);
        font-weight: 600;
        border-bottom-color: var(--accent);
      }
      [role='tab']:hover {
        color: var(--text);
      }
      .tabpanel {
        padding: 0.8rem 1.2rem 1.2rem;
        display: grid;
        gap: 1rem;
      }
      h2 {
        margin: 0;
        font-size: 1.15rem;
      }
      form {
        display: grid;
        gap: 1rem;
      }
      .loading {
        color: var(--text-muted);
        margin: 0;
      }
      fieldset {
        border: 1px solid var(--border);
        border-radius: var(--radius-sm);
        padding: 0.6rem 0.8rem 0.8rem;
        margin: 0;
        display: grid;
        gap: 0.4rem;
      }
      legend {
        font-weight: 600;
        padding: 0 0.3rem;
      }
      .field {
        display: grid;
        gap: 0.25rem;
        align-content: start;
      }
      label {
        font-weight: 500;
        font-size: 0.92rem;
      }
      .radio {
        display: flex;
        gap: 0.5rem;
        align-items: flex-start;
        font-weight: 400;
      }
      .radio input {
        margin-top: 0.25rem;
      }
      .help {
        font-size: 0.8rem;
        color: var(--text-muted);
        margin: 0;
      }
      textarea {
        min-height: 4.5rem;
        resize: vertical;
      }
      input[type='range'] {
        width: 100%;
        accent-color: var(--accent);
      }
      .two {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 0.8rem;
      }
      @media (max-width: 480px) {
        .two {
          grid-template-columns: 1fr;
        }
      }
      .footer {
        display: flex;
        justify-content: space-between;
        gap: 0.5rem;
      }
      .linkish {
        border: 0;
        background: none;
        padding: 0;
        color: var(--accent);
        text-decoration: underline;
        font-size: inherit;
        display: block;
        margin-top: 0.2rem;
      }
      output {
        font-variant-numeric: tabular-nums;
        color: var(--text-muted);
      }
    `,
  ];

  @consume({ context: settingsContext, subscribe: true }) @property({ attribute: false }) settings?: SettingsStore;
  @consume({ context: engineContext }) @property({ attribute: false }) engine?: EngineController;
  @property({ type: Boolean, reflect: true }) open = false;
  /** The tab to show when the dialog opens. */
  @property() tab: SettingsTab = 'general';
  /** The open chat (Storage offers to export it); null = none. */
  @property({ attribute: false }) sessionId: string | null = null;

  @state() private _tab: SettingsTab = 'general';
  @state() private _storageReady = false;
  @query('dialog') private _dialog?: HTMLDialogElement;

  constructor() {
    super();
    new ListenController(this, () => this.settings, ['change']);
    new ListenController(this, () => this.engine, ['status']);
  }

  override willUpdate(changed: PropertyValues<this>) {
    // Opening (or being asked for a tab) shows the requested tab; clicks inside change only the shown one.
    if (changed.has('tab') || (changed.has('open') && this.open)) this._tab = this.tab;
    if (this._tab === 'storage' && !this._storageReady) {
      import('./storage-panel').then(
        () => (this._storageReady = true),
        () => undefined,
      );
    }
  }

  override updated(changed: PropertyValues<this>) {
    // The model list shows each download for this device: find it out (probe() is cached, downloads nothing).
    if (this.open && this.engine && !this.engine.device) this.engine.probe().then(() => this.requestUpdate(), () => undefined);
    if (!changed.has('open') || !this._dialog) return;
    if (this.open && !this._dialog.open) this._dialog.showModal();
    if (!this.open && this._dialog.open) this._dialog.close();
  }

  override render() {
    const s = this.settings?.value ?? DEFAULT_SETTINGS;
    const local = s.backend === 'local';
    return html`<dialog aria-labelledby="settings-title" @close=${this.onClose}>
      <header>
        <div class="title">
          <h2 id="settings-title">Settings</h2>
          <button class="icon-btn close" type="button" aria-label="Close settings" @click=${() => this._dialog?.close()}>${icons.close}</button>
        </div>
        <div role="tablist" aria-label="Settings sections" @keydown=${this.onTabKey}>
          ${TABS.map(
            (t) => html`<button
              role="tab"
              type="button"
              id=${`tab-${t.id}`}
              aria-controls=${`panel-${t.id}`}
              aria-selected=${this._tab === t.id ? 'true' : 'false'}
              tabindex=${this._tab === t.id ? '0' : '-1'}
              @click=${() => (this._tab = t.id)}
            >
              ${t.label}
            </button>`,
          )}
        </div>
      </header>
      ${this._tab === 'general'
        ? html`<div class="tabpanel" role="tabpanel" id="panel-general" aria-labelledby="tab-general">${this.renderGeneral(s, local)}</div>`
        : html`<div class="tabpanel" role="tabpanel" id="panel-storage" aria-labelledby="tab-storage">
            ${this._storageReady
              ? html`<storage-panel .sessionId=${this.sessionId}></storage-panel>`
              : html`<p class="loading" role="status">Opening storage…</p>`}
            <div class="footer">
              <span></span>
              <button class="btn primary" type="button" @click=${() => this._dialog?.close()}>Done</button>
            </div>
          </div>`}
    </dialog>`;
  }

  private renderGeneral(s: AppSettings, local: boolean) {
    return html`
      <form @submit=${(e: Event) => e.preventDefault()}>
        <fieldset>
          <legend>Where answers come from</legend>
          <label class="radio"
            ><input type="radio" name="backend" value="local" .checked=${local} @change=${() => this.set({ backend: 'local' })} />
            <span>On this device (SmolVLM) <span class="help">private, works offline after the first download</span></span></label
          >
          <label class="radio"
            ><input type="radio" name="backend" value="remote" .checked=${!local} @change=${() => this.set({ backend: 'remote' })} />
            <span>Remote model through your Glimpse proxy <span class="help">text only; messages leave this device</span></span></label
          >
          ${local
            ? html``
            : html`<div class="field">
                  <label for="proxy">Proxy URL</label>
                  <input id="proxy" type="url" .value=${s.proxyUrl} placeholder="http://127.0.0.1:8787" @change=${(e: Event) => this.set({ proxyUrl: this.val(e) })} />
                </div>
                <div class="field">
                  <label for="remote-model">Remote model name</label>
                  <input id="remote-model" type="text" .value=${s.remoteModel} placeholder="the proxy’s default" @change=${(e: Event) => this.set({ remoteModel: this.val(e) })} />
                </div>`}
        </fieldset>
        ${local
          ? html`<div class="two">
              <div class="field">
                <label for="model">Model</label>
                <select id="model" @change=${(e: Event) => this.set({ localModel: this.val(e) })}>
                  ${MODELS.map((m) => {
                    const download = downloadText(m.id, this.engine?.device);
                    return html`<option value=${m.id} ?selected=${m.id === s.localModel}>${m.label}${download ? ` (${download})` : ''}</option>`;
                  })}
                  ${s.localModels.map((id) => html`<option value=${id} ?selected=${id === s.localModel}>${modelLabel(id)}</option>`)}
                </select>
                <p class="help">
                  ${MODELS.find((m) => m.id === s.localModel)?.description ?? 'Loaded from a folder on this device; it needs no download.'}
                  ${this.engine?.device ? html`<span class="sizes">Sizes are what this device downloads (${devicePath(this.engine.device)}).</span>` : ''}
                  <button class="linkish" type="button" @click=${() => (this._tab = 'storage')}>Load a model from a folder…</button>
                </p>
              </div>
              <div class="field">
                <label for="detail">Image detail</label>
                <select id="detail" @change=${(e: Event) => this.set({ imageDetail: this.val(e) as AppSettings['imageDetail'] })}>
                  <option value="low" ?selected=${s.imageDetail === 'low'}>Low (64 tokens, fastest)</option>
                  <option value="auto" ?selected=${s.imageDetail === 'auto'}>Auto (by image size)</option>
                  <option value="high" ?selected=${s.imageDetail === 'high'}>High (up to 1088 tokens)</option>
                </select>
                <p class="help">More image tokens see finer detail but answer slower.</p>
              </div>
            </div>`
          : html``}
        <div class="two">
          <div class="field">
            <label for="temperature">Temperature <output>${s.temperature.toFixed(1)}</output></label>
            <input id="temperature" type="range" min="0" max="1.5" step="0.1" .value=${String(s.temperature)} @change=${(e: Event) => this.set({ temperature: Number(this.val(e)) })} />
            <p class="help">0 = the same answer every time; higher = more varied.</p>
          </div>
          <div class="field">
            <label for="max-tokens">Longest answer (tokens)</label>
            <input id="max-tokens" type="number" min="16" max="4096" step="16" .value=${String(s.maxNewTokens)} @change=${(e: Event) => this.set({ maxNewTokens: Number(this.val(e)) })} />
          </div>
        </div>
        <div class="two">
          <div class="field">
            <label for="top-p">Top-p <output>${s.topP.toFixed(2)}</output></label>
            <input id="top-p" type="range" min="0.05" max="1" step="0.05" .value=${String(s.topP)} ?disabled=${s.temperature === 0} @change=${(e: Event) => this.set({ topP: Number(this.val(e)) })} />
            <p class="help">${s.temperature === 0 ? 'Used when temperature is above 0.' : 'Lower = only the likeliest words.'}</p>
          </div>
          <div class="field">
            <label for="repetition">Repetition penalty</label>
            <input id="repetition" type="number" min="1" max="2" step="0.05" .value=${String(s.repetitionPenalty)} @change=${(e: Event) => this.set({ repetitionPenalty: Number(this.val(e)) })} />
            <p class="help">1 = none; higher = fewer repeated words.</p>
          </div>
        </div>
        <div class="field">
          <label for="window">Context window (messages the model sees)</label>
          <input id="window" type="number" min="2" max="200" step="2" .value=${String(s.windowSize)} @change=${(e: Event) => this.set({ windowSize: Number(this.val(e)) })} />
          <p class="help">Older messages stay in the chat but leave the model’s memory; a marker shows where.</p>
        </div>
        <div class="field">
          <label for="system">System prompt</label>
          <textarea id="system" .value=${s.systemPrompt} placeholder="e.g. Answer briefly." @change=${(e: Event) => this.set({ systemPrompt: this.val(e) })}></textarea>
        </div>
        <div class="footer">
          <button class="btn reset" type="button" @click=${() => this.settings?.reset()}>Reset to defaults</button>
          <button class="btn primary" type="button" @click=${() => this._dialog?.close()}>Done</button>
        </div>
      </form>
    `;
  }

  /** Arrow keys move between tabs (the WAI-ARIA tabs pattern). */
  private onTabKey(e: KeyboardEvent) {
    const i = TABS.findIndex((t) => t.id === this._tab);
    const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : null;
    if (next === null) return;
    e.preventDefault();
    this._tab = TABS[(next + TABS.length) % TABS.length]!.id;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#tab-${this._tab}`)?.focus());
  }

  private val(e: Event): string {
    return (e.target as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value;
  }

  private set(patch: Partial<AppSettings>) {
    this.settings?.update(patch);
  }

  private onClose() {
    if (this.open) this.dispatchEvent(new SettingsToggleEvent(false));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'settings-panel': SettingsPanel;
  }
}
