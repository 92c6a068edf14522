import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { EngineController } from '../engine/api';
import { DEFAULT_MODEL_ID, findModel } from '../engine/models';
import type { ModelSource } from '../engine/protocol';
import { engineContext, modelFilesContext, modelSourceContext, settingsContext } from './contexts';
import { ListenController } from './controllers/listen';
import { StorageChangeEvent, type SettingsFocus } from './events';
import { modelLabel, size } from './format';
import { browserModelFiles, type CachedModel, type ModelFiles } from './services/model-files';
import { modelSourceFor } from './services/model-source';
import { isLocalModel, type SettingsStore } from './services/settings';
import { panelStyles } from './styles/panel';
import { base } from './styles/theme';
import { icons } from './styles/icons';
import './error-banner';

const FOLDER_HINT = 'Pick the model’s own folder: the one holding config.json, the tokenizer files and onnx/ (the Hugging Face layout).';

/**
 * The models on this device: each cached model with its size and Delete (confirmed inline; deleting the
 * model in use says it will download again), “Load a model from a folder” (no network: the files go into
 * the cache under the URLs the engine would download, and the model becomes the selected one), and the
 * model host for self-hosted weights (the next download uses it; app-root passes it to the engine).
 *
 * @fires storage-change - a model was deleted or added
 */
@customElement('model-manager')
export class ModelManager extends LitElement {
  static override styles = [
    base,
    panelStyles,
    css`
      :host {
        display: grid;
        gap: 1rem;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.35rem;
      }
      li {
        display: grid;
        grid-template-columns: minmax(0, 1fr) auto;
        align-items: center;
        gap: 0.2rem 0.6rem;
        padding: 0.45rem 0.3rem 0.45rem 0.7rem;
        border-radius: var(--radius-sm);
        background: var(--bg-soft);
      }
      .name {
        font-weight: 600;
        font-size: 0.92rem;
        overflow-wrap: anywhere;
      }
      .meta {
        font-size: 0.8rem;
        color: var(--text-muted);
        font-variant-numeric: tabular-nums;
      }
      .confirm {
        grid-column: 1 / -1;
        display: grid;
        gap: 0.4rem;
        font-size: 0.88rem;
        padding: 0.2rem 0.3rem 0.2rem 0;
      }
      .btn.small {
        min-height: 32px;
        font-size: 0.85rem;
        padding: 0.2rem 0.7rem;
      }
      .btn.danger.solid {
        background: var(--danger);
        border-color: var(--danger);
        color: var(--bg);
        font-weight: 600;
      }
    `,
  ];

  @consume({ context: settingsContext, subscribe: true }) @property({ attribute: false }) settings?: SettingsStore;
  @consume({ context: engineContext, subscribe: true }) @property({ attribute: false }) engine?: EngineController;
  @consume({ context: modelSourceContext, subscribe: true }) @property({ attribute: false }) modelSource?: ModelSource;
  @consume({ context: modelFilesContext, subscribe: true }) @property({ attribute: false }) modelFiles: ModelFiles = browserModelFiles;

  /** The model whose Delete waits for confirmation. */
  @state() private _confirming: string | null = null;
  @state() private _busy = false;
  @state() private _message = '';
  @state() private _error: unknown = null;
  @state() private _folderError: unknown = null;
  @state() private _importing = false;
  @state() private _folderMessage = '';

  private readonly _models = new Task(this, {
    task: () => this.modelFiles.list(),
    args: () => [],
  });

  constructor() {
    super();
    new ListenController(this, () => this.settings, ['change']);
    new ListenController(this, () => this.engine, ['status']);
  }

  /** Lists the cached models again. */
  refresh(): Promise<void> {
    return this._models.run();
  }

  override render() {
    return html`
      <section aria-labelledby="models-title">
        <h3 id="models-title">Models on this device</h3>
        ${this._models.render({
          pending: () => (this._models.value ? this.renderList(this._models.value) : html`<p class="help" role="status">Looking for models…</p>`),
          complete: (models) => this.renderList(models),
          error: (err) => html`<error-banner .error=${err} .dismissible=${false}></error-banner>`,
        })}
        ${this._error ? html`<error-banner .error=${this._error} @dismiss=${() => (this._error = null)}></error-banner>` : nothing}
        <p class="ok" role="status">${this._message}</p>
      </section>
      ${this.renderFolder()} ${this.renderHost()}
    `;
  }

  private renderList(models: CachedModel[]) {
    if (models.length === 0) {
      return html`<p class="help none">No model is stored yet. The first answer downloads one (a few hundred MB, once).</p>`;
    }
    return html`<ul aria-label="Cached models">
      ${repeat(
        models,
        (m) => m.model,
        (m) => html`<li class="model" data-model=${m.model}>
          <div>
            <div class="name">${modelLabel(m.model)}</div>
            <div class="meta"><span class="size">${size(m.bytes)}</span> · ${m.files.length} ${m.files.length === 1 ? 'file' : 'files'}${this.inUse(m.model) ? ' · in use' : ''}</div>
          </div>
          ${this._confirming === m.model
            ? nothing
            : html`<button class="btn small danger delete" type="button" aria-label=${`Delete ${modelLabel(m.model)} (${size(m.bytes)})`} ?disabled=${this._busy} @click=${() => this.askDelete(m.model)}>
                ${icons.trash} Delete
              </button>`}
          ${this._confirming === m.model ? this.renderConfirm(m) : nothing}
        </li>`,
      )}
    </ul>`;
  }

  private renderConfirm(m: CachedModel) {
    const local = isLocalModel(m.model);
    const consequence = local
      ? 'It came from a folder: to use it again, load the folder again.'
      : this.inUse(m.model)
        ? `It is the model in use, so it will download again (${size(m.bytes)}) the next time you ask something.`
        : 'It will download again if you choose it later.';
    return html`<div class="confirm" role="group" aria-label=${`Confirm deleting ${modelLabel(m.model)}`}>
      <p>Delete ${modelLabel(m.model)} and free ${size(m.bytes)}? ${consequence}</p>
      <div class="row">
        <button class="btn small danger solid confirm-delete" type="button" ?disabled=${this._busy} @click=${() => this.delete(m)}>Delete</button>
        <button class="btn small cancel" type="button" @click=${() => this.cancelDelete(m.model)}>Cancel</button>
      </div>
    </div>`;
  }

  private renderFolder() {
    return html`<section aria-labelledby="folder-title">
      <h3 id="folder-title">Load a model from a folder</h3>
      <p class="help">
        Already have the model files (from a download or another computer)? Pick the model’s folder and Glimpse uses it with no
        download. It needs <code>config.json</code>, the tokenizer files and the <code>onnx/</code> files for this device.
      </p>
      <div class="row">
        <button class="btn pick-folder" type="button" ?disabled=${this._importing} @click=${() => this.renderRoot.querySelector<HTMLInputElement>('#folder')?.click()}>
          ${this._importing ? 'Reading the folder…' : 'Choose a folder…'}
        </button>
        <input id="folder" type="file" webkitdirectory multiple tabindex="-1" aria-hidden="true" @change=${this.onFolder} />
      </div>
      ${this._folderError
        ? html`<error-banner class="folder-error" .error=${this._folderError} .hint=${FOLDER_HINT} @dismiss=${() => (this._folderError = null)}></error-banner>`
        : nothing}
      <p class="ok folder-ok" role="status">${this._folderMessage}</p>
    </section>`;
  }

  private renderHost() {
    const value = this.settings?.value.modelHost ?? '';
    const { error } = modelSourceFor(value);
    return html`<section aria-labelledby="host-title">
      <h3 id="host-title">Model host</h3>
      <label for="model-host">Download models from</label>
      <input
        id="model-host"
        type="text"
        inputmode="url"
        spellcheck="false"
        autocomplete="off"
        placeholder="Hugging Face (default)"
        .value=${value}
        aria-describedby="host-help"
        @change=${(e: Event) => this.settings?.update({ modelHost: (e.target as HTMLInputElement).value })}
      />
      <p class="help" id="host-help">
        Empty = Hugging Face. For self-hosted weights give a URL, or a path on this site such as <code>./models/</code>, with the files
        laid out as <code>{owner}/{name}/resolve/main/{file}</code>. Another site must allow this page (CORS). The next download uses it, no reload needed.
      </p>
      ${error ? html`<error-banner class="host-error" level="warning" .error=${{ name: 'Notice', message: error }} .dismissible=${false}></error-banner>` : nothing}
    </section>`;
  }

  /** Brings a part into view and puts the keyboard on it (an error card's “Load a model from a folder” / “Use another model host”). */
  async reveal(part: SettingsFocus): Promise<void> {
    await this.updateComplete;
    const target = this.renderRoot.querySelector<HTMLElement>(part === 'folder' ? 'button.pick-folder' : '#model-host');
    target?.closest('section')?.scrollIntoView({ block: 'start' });
    target?.focus();
  }

  private inUse(model: string): boolean {
    const s = this.engine?.status;
    const loaded = s && (s.state === 'ready' || s.state === 'generating' || s.state === 'loading') ? s.model : null;
    return loaded === model || (this.settings?.value.backend !== 'remote' && this.settings?.value.localModel === model);
  }

  private askDelete(model: string) {
    this._confirming = model;
    this._message = '';
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>('.confirm-delete')?.focus());
  }

  private cancelDelete(model: string) {
    this._confirming = null;
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLButtonElement>(`li[data-model="${CSS.escape(model)}"] .delete`)?.focus(),
    );
  }

  private async delete(m: CachedModel) {
    this._busy = true;
    this._error = null;
    const inUse = this.inUse(m.model);
    try {
      const freed = await this.modelFiles.delete(m.model);
      const settings = this.settings;
      if (settings && isLocalModel(m.model)) {
        const s = settings.value;
        settings.update({
          localModels: s.localModels.filter((id) => id !== m.model),
          ...(s.localModel === m.model ? { localModel: DEFAULT_MODEL_ID } : {}),
        });
      }
      this._message =
        `Deleted ${modelLabel(m.model)}; ${size(freed)} freed.` +
        (isLocalModel(m.model) && inUse ? ` Glimpse now uses ${findModel(DEFAULT_MODEL_ID)?.label ?? 'the default model'}.` : inUse ? ' It will download again next time.' : '');
      this._confirming = null;
      this.dispatchEvent(new StorageChangeEvent());
    } catch (err) {
      this._error = err;
    } finally {
      this._busy = false;
      await this._models.run();
    }
  }

  private async onFolder(e: Event) {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = ''; // choosing the same folder again fires change again
    if (files.length === 0) return;
    await this.importFolder(files);
  }

  /** Puts a picked folder's files into the model cache and selects the model (also used by tests). */
  async importFolder(files: File[]): Promise<void> {
    const engine = this.engine;
    this._importing = true;
    this._folderError = null;
    this._folderMessage = '';
    try {
      const choice = engine?.device ?? (engine ? await engine.probe() : { device: 'wasm' as const, shaderF16: false });
      const { model, bytes } = await this.modelFiles.importFolder(files, this.modelSource ?? { kind: 'hub' }, choice);
      const settings = this.settings;
      if (settings) {
        const s = settings.value;
        settings.update({ localModels: [...s.localModels.filter((id) => id !== model), model], localModel: model, backend: 'local' });
      }
      this._folderMessage = `Loaded ${modelLabel(model)} (${size(bytes)}). It is now the selected model and needs no download.`;
      this.dispatchEvent(new StorageChangeEvent());
    } catch (err) {
      this._folderError = err;
    } finally {
      this._importing = false;
      await this._models.run();
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'model-manager': ModelManager;
  }
}
