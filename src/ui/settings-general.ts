import { consume } from '@lit/context';
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import type { EngineController } from '../engine/api';
import { MODELS } from '../engine/models';
import type { DevicePreference } from '../engine/protocol';
import { engineContext, settingsContext } from './contexts';
import { ListenController } from './controllers/listen';
import { SettingsToggleEvent } from './events';
import { MAX_SEED } from '../chat/sampling';
import { deviceName, devicePath, deviceWhy, downloadText, modelHelp, modelLabel, windowHelp } from './format';
import { LIMITS, remoteReadsImages, type AppSettings, type SettingsStore } from './services/settings';
import { fieldStyles } from './styles/controls';
import { base } from './styles/theme';

type NumberKey = keyof typeof LIMITS;

const DEVICES: { id: DevicePreference; label: string; help: string }[] = [
  { id: 'auto', label: 'Auto', help: 'the faster one on this device (a software GPU is never picked)' },
  { id: 'webgpu', label: 'GPU (WebGPU)', help: 'the graphics card, when the browser offers one' },
  { id: 'wasm', label: 'CPU (WebAssembly)', help: 'the processor: works everywhere, slower than a real GPU' },
];

/**
 * Settings → General: where answers come from, the model (full names and what each downloads here), the
 * device, image detail, sampling, the context window, memory for recent chats and the system prompt. Each
 * change applies and is saved at once; a number outside what is allowed is corrected, and the field says so.
 *
 * @fires settings-toggle - “Load a model from a folder…” (asks for the Storage tab)
 */
@customElement('settings-general')
export class SettingsGeneral extends LitElement {
  static override styles = [
    base,
    fieldStyles,
    css`
      form {
        display: grid;
        gap: 1rem;
      }
      fieldset {
        border: 1px solid var(--border);
        border-radius: var(--radius-sm);
        padding: 0.6rem 0.8rem 0.8rem;
        margin: 0;
        display: grid;
        gap: 0.4rem;
        min-width: 0;
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
        flex: none;
      }
      .radio .name {
        font-weight: 600;
      }
      .radio .id {
        display: block;
        font-size: 0.78rem;
        color: var(--text-muted);
        overflow-wrap: anywhere;
      }
      .help {
        font-size: 0.8rem;
        color: var(--text-muted);
        margin: 0;
      }
      .corrected {
        font-size: 0.8rem;
        margin: 0;
        color: var(--text);
        background: var(--warning-bg);
        border-radius: 6px;
        padding: 0.2rem 0.45rem;
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
      .linkish {
        border: 0;
        background: none;
        padding: 0;
        color: var(--accent);
        text-decoration: underline;
        font-size: 0.85rem;
        justify-self: start;
      }
      output {
        font-variant-numeric: tabular-nums;
        color: var(--text-muted);
      }
    `,
  ];

  @consume({ context: settingsContext, subscribe: true }) @property({ attribute: false }) settings?: SettingsStore;
  @consume({ context: engineContext }) @property({ attribute: false }) engine?: EngineController;

  /** Fields whose typed value was corrected, and to what. */
  @state() private _corrected: Partial<Record<NumberKey, string>> = {};
  /** Models whose files for this device are already downloaded. */
  @state() private _downloaded = new Set<string>();

  constructor() {
    super();
    new ListenController(this, () => this.settings, ['change']);
    new ListenController(this, () => this.engine, ['status']);
  }

  override firstUpdated(_changed: PropertyValues<this>) {
    void this.checkDownloads();
  }

  override render() {
    const s = this.settings?.value;
    if (!s) return nothing;
    const local = s.backend === 'local';
    return html`<form @submit=${(e: Event) => e.preventDefault()}>
      ${this.renderBackend(s, local)} ${local ? this.renderModel(s) : nothing} ${local ? this.renderDevice(s) : nothing}
      <div class="two">
        ${local
          ? html`<div class="field">
              <label for="detail">Image detail</label>
              <select id="detail" @change=${(e: Event) => this.set({ imageDetail: this.val(e) as AppSettings['imageDetail'] })}>
                <option value="low" ?selected=${s.imageDetail === 'low'}>Low (64 tokens, fastest)</option>
                <option value="auto" ?selected=${s.imageDetail === 'auto'}>Auto (by image size)</option>
                <option value="high" ?selected=${s.imageDetail === 'high'}>High (up to 1088 tokens)</option>
              </select>
              <p class="help">More image tokens see finer detail but answer slower.</p>
            </div>`
          : nothing}
        ${this.number('max-tokens', 'Longest answer (tokens)', 'maxNewTokens', 16)}
      </div>
      <div class="two">
        <div class="field">
          <label for="temperature">Temperature <output>${s.temperature.toFixed(1)}</output></label>
          <input id="temperature" type="range" min="0" max="1.5" step="0.1" .value=${String(s.temperature)} @change=${(e: Event) => this.set({ temperature: Number(this.val(e)) })} />
          <p class="help">0 = the likeliest answer; higher = more varied. Regenerate always varies the answer (at 0.7 when this is 0), unless a seed is set.</p>
        </div>
        <div class="field">
          <label for="top-p">Top-p <output>${s.topP.toFixed(2)}</output></label>
          <input id="top-p" type="range" min="0.05" max="1" step="0.05" .value=${String(s.topP)} ?disabled=${s.temperature === 0} @change=${(e: Event) => this.set({ topP: Number(this.val(e)) })} />
          <p class="help">${s.temperature === 0 ? 'Used when temperature is above 0.' : 'Lower = only the likeliest words.'}</p>
        </div>
      </div>
      <div class="field">
        <label for="seed">Seed</label>
        <input id="seed" type="number" min="0" max=${MAX_SEED} step="1" placeholder="none" .value=${live(s.seed === null ? '' : String(s.seed))} aria-describedby="seed-help" @change=${(e: Event) => this.setSeed(this.val(e))} />
        <p class="help" id="seed-help">${s.seed === null
          ? 'Empty: each sampled answer and each Regenerate gets a fresh seed (shown in the answer’s details).'
          : 'The same question gets the same answer each time, Regenerate included. Empty it for varied answers.'}</p>
      </div>
      <div class="two">
        ${this.number('repetition', 'Repetition penalty', 'repetitionPenalty', 0.05, '1 = none; higher = fewer repeated words.')}
        ${this.number('window', 'Context window (messages)', 'windowSize', 2, windowHelp(s.windowSize))}
      </div>
      ${local
        ? this.number('kv-memory', 'Memory for recent chats (MB)', 'kvBudgetMB', 32,
            'Going back to a recent chat resumes at once while its memory is kept; the least recently used are freed first.')
        : nothing}
      <div class="field">
        <label for="system">System prompt</label>
        <textarea id="system" .value=${s.systemPrompt} placeholder="e.g. Answer briefly." @change=${(e: Event) => this.set({ systemPrompt: this.val(e) })}></textarea>
      </div>
    </form>`;
  }

  private renderBackend(s: AppSettings, local: boolean) {
    return html`<fieldset>
      <legend>Where answers come from</legend>
      <label class="radio"
        ><input type="radio" name="backend" value="local" .checked=${local} @change=${() => this.set({ backend: 'local' })} />
        <span>On this device (SmolVLM) <span class="help">private, works offline after the first download</span></span></label
      >
      <label class="radio"
        ><input type="radio" name="backend" value="remote" .checked=${!local} @change=${() => this.set({ backend: 'remote' })} />
        <span>Remote model through your Glimpse proxy <span class="help">messages (and the photo, if the model reads images) leave this device</span></span></label
      >
      ${local
        ? nothing
        : html`<div class="field">
              <label for="proxy">Proxy URL</label>
              <input id="proxy" type="url" .value=${s.proxyUrl} placeholder="http://127.0.0.1:8787" @change=${(e: Event) => this.set({ proxyUrl: this.val(e) })} />
            </div>
            <div class="field">
              <label for="remote-model">Remote model name</label>
              <input id="remote-model" type="text" .value=${s.remoteModel} placeholder="the proxy’s default" @change=${(e: Event) => this.set({ remoteModel: this.val(e) })} />
            </div>
            <label class="radio"
              ><input id="remote-images" type="checkbox" .checked=${remoteReadsImages(s)}
                @change=${(e: Event) => this.set({ remoteImages: { ...s.remoteImages, [s.remoteModel]: (e.target as HTMLInputElement).checked } })} />
              <span>This model reads images <span class="help">the photo in context goes with your question, downscaled; off: text only</span></span></label
            >`}
    </fieldset>`;
  }

  /** Every model with its full name, its hub id and what it costs here (the sizes the status line shows). */
  private renderModel(s: AppSettings) {
    const device = this.engine?.device;
    const models = [...MODELS.map((m) => ({ id: m.id, label: m.label, sub: m.id, help: modelHelp(m) })), ...s.localModels.map((id) => ({ id, label: modelLabel(id), sub: '', help: '' }))];
    return html`<fieldset class="models">
      <legend>Model</legend>
      ${models.map((m) => {
        const cost = this._downloaded.has(m.id) || !m.sub ? 'on this device' : downloadText(m.id, device);
        return html`<label class="radio model"
          ><input type="radio" name="model" .value=${m.id} .checked=${m.id === s.localModel} @change=${() => this.set({ localModel: m.id })} />
          <span
            ><span class="name">${m.label}</span>${cost ? html` <span class="size">· ${cost}</span>` : nothing}
            ${m.sub ? html`<span class="id">${m.sub}${m.help ? ` — ${m.help}` : ''}</span>` : nothing}</span
          ></label
        >`;
      })}
      <p class="help">${device ? html`<span class="sizes">Sizes are what this device downloads, once (${devicePath(device)}).</span>` : nothing}</p>
      <button class="linkish" type="button" @click=${() => this.dispatchEvent(new SettingsToggleEvent(true, 'storage', 'folder'))}>Load a model from a folder…</button>
    </fieldset>`;
  }

  private renderDevice(s: AppSettings) {
    const d = this.engine?.device;
    const status = this.engine?.status.state;
    const running = status === 'ready' || status === 'generating';
    const why = d ? deviceWhy(d) : '';
    return html`<fieldset class="device">
      <legend>Device</legend>
      ${DEVICES.map(
        (o) => html`<label class="radio"
          ><input type="radio" name="device" value=${o.id} .checked=${s.device === o.id} @change=${() => this.set({ device: o.id })} />
          <span><span class="name">${o.label}</span> <span class="help">${o.help}</span></span></label
        >`,
      )}
      ${d ? html`<p class="help now" role="status">${running ? 'Running on' : 'Will run on'} ${deviceName(d)}${why ? ` — ${why}` : ''}.</p>` : nothing}
    </fieldset>`;
  }

  /** A number field that says when the value typed was out of bounds and what it became. */
  private number(id: string, label: string, key: NumberKey, step: number, help = '') {
    const value = this.settings!.value[key];
    const { min, max } = LIMITS[key];
    const corrected = this._corrected[key];
    return html`<div class="field">
      <label for=${id}>${label}</label>
      <input id=${id} type="number" min=${min} max=${max} step=${step} .value=${live(String(value))} aria-describedby=${`${id}-help`} @change=${(e: Event) => this.setNumber(key, this.val(e))} />
      ${corrected ? html`<p class="corrected" role="status">${corrected}</p>` : nothing}
      <p class="help" id=${`${id}-help`}>${help}${help ? ' ' : ''}From ${min.toLocaleString('en')} to ${max.toLocaleString('en')}.</p>
    </div>`;
  }

  private setNumber(key: NumberKey, typed: string) {
    const asked = Number(typed);
    const stored = this.set({ [key]: asked })?.[key];
    const { min, max } = LIMITS[key];
    const note =
      typed.trim() === '' || !Number.isFinite(asked)
        ? `That is not a number; it stays ${stored}.`
        : stored !== asked
          ? `${asked.toLocaleString('en')} is ${asked > max ? 'more than the most' : asked < min ? 'less than the least' : 'not a step'} allowed, so it is set to ${stored?.toLocaleString('en')}.`
          : '';
    this._corrected = { ...this._corrected, [key]: note };
  }

  /** Empty = no seed; anything else that is not a whole number in range leaves the seed as it was. */
  private setSeed(typed: string) {
    const n = Number(typed);
    if (typed.trim() === '') this.set({ seed: null });
    else if (Number.isInteger(n) && n >= 0 && n <= MAX_SEED) this.set({ seed: n });
    else this.requestUpdate();
  }

  private async checkDownloads() {
    const engine = this.engine;
    if (!engine) return;
    const ids = [...MODELS.map((m) => m.id), ...(this.settings?.value.localModels ?? [])];
    const found = await Promise.all(ids.map((id) => engine.isDownloaded(id).catch(() => false)));
    this._downloaded = new Set(ids.filter((_, i) => found[i]));
  }

  private val(e: Event): string {
    return (e.target as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value;
  }

  private set(patch: Partial<AppSettings>): AppSettings | undefined {
    return this.settings?.update(patch);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'settings-general': SettingsGeneral;
  }
}
