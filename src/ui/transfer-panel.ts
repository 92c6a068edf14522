import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { storeContext, type ChatStore } from './contexts';
import { StorageChangeEvent } from './events';
import { describeImport, download, exportChatMarkdown, exportChats, importChats } from './services/transfer';
import { panelStyles } from './styles/panel';
import { base } from './styles/theme';
import './error-banner';

/**
 * Chats in and out of this browser: export all chats or the open one as a JSON file (images, every answer
 * version and edited branch included), and import such a file; or the open chat as Markdown to read or share. An import is checked completely before anything is written, so a broken file
 * changes nothing and says what was wrong; chats already here are skipped, so importing twice is harmless.
 *
 * @fires storage-change - chats were imported
 */
@customElement('transfer-panel')
export class TransferPanel extends LitElement {
  static override styles = [
    base,
    panelStyles,
    css`
      :host {
        display: block;
      }
    `,
  ];

  @consume({ context: storeContext, subscribe: true }) @property({ attribute: false }) store?: ChatStore;

  /** The open chat (offered for export on its own); null = none. */
  @property({ attribute: false }) sessionId: string | null = null;

  @state() private _busy: 'export' | 'import' | null = null;
  @state() private _message = '';
  @state() private _error: unknown = null;

  override render() {
    return html`<section aria-labelledby="transfer-title">
      <h3 id="transfer-title">Export and import chats</h3>
      <p class="help">
        One JSON file with the chats and their photos, every version of an answer and every edited branch included: a backup, or a
        way to move them to another browser. It stays on this device until you share it. Markdown holds the open chat as shown, to
        read or share.
      </p>
      <div class="row">
        <button class="btn export-all" type="button" ?disabled=${!!this._busy} @click=${() => this.export()}>Export all chats</button>
        ${this.sessionId
          ? html`<button class="btn export-one" type="button" ?disabled=${!!this._busy} @click=${() => this.export(this.sessionId!)}>Export this chat</button>
              <button class="btn export-md" type="button" ?disabled=${!!this._busy} @click=${() => this.exportMarkdown(this.sessionId!)}>
                Export as Markdown
              </button>`
          : nothing}
        <button class="btn import" type="button" ?disabled=${!!this._busy} @click=${() => this.renderRoot.querySelector<HTMLInputElement>('#import-file')?.click()}>
          ${this._busy === 'import' ? 'Importing…' : 'Import…'}
        </button>
        <input id="import-file" type="file" accept=".json,application/json" tabindex="-1" aria-hidden="true" @change=${this.onPicked} />
      </div>
      ${this._error ? html`<error-banner class="transfer-error" .error=${this._error} @dismiss=${() => (this._error = null)}></error-banner>` : nothing}
      <p class="ok transfer-ok" role="status">${this._message}</p>
    </section>`;
  }

  private export(sessionId?: string) {
    return this.exporting(async (store) => {
      const { blob, name, sessions } = await exportChats(store, sessionId ? [sessionId] : undefined);
      download(blob, name);
      return sessions === 0
        ? `There are no chats yet; ${name} holds none.`
        : `Exported ${sessions === 1 ? '1 chat' : `${sessions} chats`} as ${name} (in your downloads).`;
    });
  }

  private exportMarkdown(sessionId: string) {
    return this.exporting(async (store) => {
      const { blob, name, title } = await exportChatMarkdown(store, sessionId);
      download(blob, name);
      return `Exported “${title}” as ${name} (in your downloads).`;
    });
  }

  /** Runs an export with the buttons disabled; shows what it says, or its error. */
  private async exporting(task: (store: ChatStore) => Promise<string>) {
    const store = this.store;
    if (!store) return;
    this._busy = 'export';
    this._error = null;
    this._message = '';
    try {
      this._message = await task(store);
    } catch (err) {
      this._error = err;
    } finally {
      this._busy = null;
    }
  }

  private async onPicked(e: Event) {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = ''; // picking the same file again fires change again
    if (file) await this.importFile(file);
  }

  /** Imports an export file (the file picker's handler; also used by tests). */
  async importFile(file: Blob): Promise<void> {
    const store = this.store;
    if (!store) return;
    this._busy = 'import';
    this._error = null;
    this._message = '';
    try {
      const result = await importChats(store, file);
      this._message = describeImport(result);
      if (result.imported > 0) this.dispatchEvent(new StorageChangeEvent());
    } catch (err) {
      this._error = err;
    } finally {
      this._busy = null;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'transfer-panel': TransferPanel;
  }
}
