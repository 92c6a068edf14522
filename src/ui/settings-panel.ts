import { consume } from '@lit/context';
import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { settingsContext } from './contexts';
import { SettingsToggleEvent, type SettingsFocus, type SettingsTab } from './events';
import type { SettingsStore } from './services/settings';
import { base } from './styles/theme';
import { icons } from './styles/icons';
import './settings-general';

const TABS: { id: SettingsTab; label: string }[] = [
  { id: 'general', label: 'General' },
  { id: 'storage', label: 'Storage & models' },
];

/**
 * Settings in a modal dialog with two tabs. General: <settings-general> (each change applies and is saved
 * at once). Storage & models: <storage-panel>, loaded when the tab is first opened (it is not needed to
 * start). The header and the footer (Done) stay in view; the tab between them scrolls.
 *
 * @fires settings-toggle - the dialog closed (open: false)
 */
@customElement('settings-panel')
export class SettingsPanel extends LitElement {
  static override styles = [
    base,
    css`
      dialog {
        width: min(36rem, calc(100vw - 1.5rem));
        max-height: calc(100dvh - 2rem);
        padding: 0;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        background: var(--bg);
        color: var(--text);
        box-shadow: var(--shadow);
        overflow: hidden;
      }
      dialog[open] {
        display: flex;
        flex-direction: column;
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 0.45);
      }
      header {
        flex: none;
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
        flex: 1;
        min-height: 0;
        overflow-y: auto;
        overscroll-behavior: contain;
        padding: 0.8rem 1.2rem 1rem;
      }
      h2 {
        margin: 0;
        font-size: 1.15rem;
      }
      .loading {
        color: var(--text-muted);
        margin: 0;
      }
      footer {
        flex: none;
        display: flex;
        justify-content: space-between;
        gap: 0.5rem;
        padding: 0.6rem 1.2rem;
        border-top: 1px solid var(--border);
        background: var(--bg);
      }
    `,
  ];

  @consume({ context: settingsContext, subscribe: true }) @property({ attribute: false }) settings?: SettingsStore;
  @property({ type: Boolean, reflect: true }) open = false;
  /** The tab to show when the dialog opens. */
  @property() tab: SettingsTab = 'general';
  /** A part of Storage & models to bring into view on opening (e.g. from an error card). */
  @property({ attribute: false }) focusOn: SettingsFocus | null = null;
  /** The open chat (Storage offers to export it); null = none. */
  @property({ attribute: false }) sessionId: string | null = null;

  @state() private _tab: SettingsTab = 'general';
  @state() private _storageReady = false;
  @state() private _focus: SettingsFocus | null = null;
  @query('dialog') private _dialog?: HTMLDialogElement;

  override willUpdate(changed: PropertyValues<this>) {
    // Opening (or being asked for a tab) shows the requested tab; clicks inside change only the shown one.
    if (changed.has('tab') || (changed.has('open') && this.open)) {
      this._tab = this.tab;
      this._focus = this.focusOn;
    }
    if (this._tab === 'storage' && !this._storageReady) {
      import('./storage-panel').then(
        () => (this._storageReady = true),
        () => undefined,
      );
    }
  }

  override updated(changed: PropertyValues<this>) {
    if (!changed.has('open') || !this._dialog) return;
    if (this.open && !this._dialog.open) this._dialog.showModal();
    if (!this.open && this._dialog.open) this._dialog.close();
  }

  override render() {
    const general = this._tab === 'general';
    return html`<dialog aria-labelledby="settings-title" @close=${this.onClose} @settings-toggle=${this.onInnerToggle}>
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
      ${general
        ? html`<div class="tabpanel" role="tabpanel" id="panel-general" aria-labelledby="tab-general"><settings-general></settings-general></div>`
        : html`<div class="tabpanel" role="tabpanel" id="panel-storage" aria-labelledby="tab-storage">
            ${this._storageReady
              ? html`<storage-panel .sessionId=${this.sessionId} .focusOn=${this._focus}></storage-panel>`
              : html`<p class="loading" role="status">Opening storage…</p>`}
          </div>`}
      <footer>
        ${general ? html`<button class="btn reset" type="button" @click=${() => this.settings?.reset()}>Reset to defaults</button>` : html`<span></span>`}
        <button class="btn primary done" type="button" @click=${() => this._dialog?.close()}>Done</button>
      </footer>
    </dialog>`;
  }

  /** “Load a model from a folder…” in General: the Storage tab, at that part. */
  private onInnerToggle(e: SettingsToggleEvent) {
    if (!e.open || !e.tab) return;
    e.stopPropagation();
    this._tab = e.tab;
    this._focus = e.focus ?? null;
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

  private onClose() {
    if (this.open) this.dispatchEvent(new SettingsToggleEvent(false));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'settings-panel': SettingsPanel;
  }
}
