import { provide } from '@lit/context';
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { ChatApi } from '../chat/api';
import type { EngineController } from '../engine/api';
import type { ModelSource } from '../engine/protocol';
import type { ChatView } from './chat-view';
import {
  chatContext,
  engineContext,
  generationContext,
  modelFilesContext,
  modelSourceContext,
  settingsContext,
  storageSpaceContext,
  storeContext,
  type AppServices,
  type ChatStore,
} from './contexts';
import { ListenController } from './controllers/listen';
import type { SessionSelectEvent, SettingsFocus, SettingsTab, SettingsToggleEvent } from './events';
import type { GenerationTracker } from './services/generation';
import { browserModelFiles, browserStorageSpace, type ModelFiles, type StorageSpace } from './services/model-files';
import { acceptsImages, toEngineSettings, type SettingsStore } from './services/settings';
import { base, themeTokens } from './styles/theme';
import { icons } from './styles/icons';
import './chat-view';
import './model-status';
import './session-list';
import './theme-switch';

const LAST_SESSION = 'lastSession';

/**
 * The app's frame: it provides the services to every element (contexts), lays out the sidebar (a drawer
 * on phones), the header with the model status, the conversation and the settings dialog, and remembers
 * the open chat across reloads.
 */
@customElement('app-root')
export class AppRoot extends LitElement {
  static override styles = [
    themeTokens,
    base,
    css`
      :host {
        display: grid;
        grid-template-columns: 17rem minmax(0, 1fr);
        height: 100dvh;
        background: var(--bg);
        color: var(--text);
        overflow: hidden;
      }
      .skip {
        position: absolute;
        left: 0.5rem;
        top: -3rem;
        z-index: 10;
        background: var(--accent);
        color: var(--on-accent);
        padding: 0.4rem 0.8rem;
        border-radius: var(--radius-sm);
      }
      .skip:focus {
        top: 0.5rem;
      }
      aside {
        display: flex;
        flex-direction: column;
        min-height: 0;
        background: var(--bg-soft);
        border-right: 1px solid var(--border);
      }
      .brand {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        padding: 0.85rem 0.9rem 0;
        font-weight: 700;
        font-size: 1.05rem;
      }
      .brand img {
        width: 26px;
        height: 26px;
      }
      .brand .close {
        margin-left: auto;
        display: none;
      }
      session-list {
        flex: 1;
      }
      main {
        display: flex;
        flex-direction: column;
        min-height: 0;
        min-width: 0;
      }
      header {
        display: flex;
        align-items: flex-start;
        gap: 0.4rem;
        padding: 0.35rem 0.6rem 0.35rem 1rem;
        border-bottom: 1px solid var(--border);
      }
      header model-status {
        flex: 1;
        min-width: 0;
      }
      header .tools {
        display: flex;
        gap: 0.1rem;
      }
      .menu {
        display: none;
      }
      chat-view {
        flex: 1;
      }
      settings-panel {
        position: absolute;
      }
      .scrim {
        display: none;
      }
      h1 {
        margin: 0;
        font-size: inherit;
      }
      @media (max-width: 760px) {
        :host {
          grid-template-columns: minmax(0, 1fr);
        }
        aside {
          position: fixed;
          inset: 0 auto 0 0;
          width: min(20rem, 86vw);
          z-index: 5;
          transform: translateX(-105%);
          transition: transform 0.2s ease;
          box-shadow: var(--shadow);
          visibility: hidden;
        }
        :host([drawer-open]) aside {
          transform: none;
          visibility: visible;
        }
        :host([drawer-open]) .scrim {
          display: block;
          position: fixed;
          inset: 0;
          background: rgb(0 0 0 / 0.4);
          z-index: 4;
          border: 0;
        }
        .menu,
        .brand .close {
          display: inline-flex;
        }
        header {
          padding-left: 0.4rem;
        }
      }
      @media (prefers-reduced-motion: reduce) {
        aside {
          transition: none;
        }
      }
    `,
  ];

  /** The services to run on (built by src/main.ts, or by a test). */
  @property({ attribute: false }) services: AppServices | null = null;
  /** 'light' | 'dark' when the user chose one; absent = follow the system. */
  @property({ reflect: true }) theme: 'light' | 'dark' | null = null;
  @property({ type: Boolean, reflect: true, attribute: 'drawer-open' }) drawerOpen = false;
  /** Set when a new version of the app is waiting: calling it activates the new version and reloads. */
  @property({ attribute: false }) applyUpdate: (() => Promise<void>) | null = null;

  @provide({ context: storeContext }) store!: ChatStore;
  @provide({ context: chatContext }) chat!: ChatApi;
  @provide({ context: engineContext }) engine!: EngineController;
  @provide({ context: settingsContext }) settings!: SettingsStore;
  @provide({ context: generationContext }) generation!: GenerationTracker;
  @provide({ context: modelSourceContext }) modelSource: ModelSource = { kind: 'hub' };
  @provide({ context: modelFilesContext }) modelFiles: ModelFiles = browserModelFiles;
  @provide({ context: storageSpaceContext }) storageSpace: StorageSpace = browserStorageSpace;

  @state() private _sessionId: string | null = null;
  @state() private _settingsOpen = false;
  /** The settings dialog's code is loaded when first wanted (it is not needed to start). */
  @state() private _settingsLoaded = false;
  @state() private _settingsTab: SettingsTab = 'general';
  @state() private _settingsFocus: SettingsFocus | null = null;
  @state() private _restored = false;
  @query('chat-view') private _chatView?: ChatView;

  constructor() {
    super();
    new ListenController(this, () => this.settings, ['change'], () => {
      this.applyTheme();
      this.configureEngine();
    });
    // The update offer waits for the answer in progress: re-render when generation starts or ends.
    new ListenController(this, () => this.generation, ['change']);
    // From the dialog itself (closed) or from anywhere below (e.g. a full-storage error's “Open Settings → Storage”).
    this.addEventListener('settings-toggle', (e) => this.onSettingsToggle(e));
    // A model deleted or loaded from a folder: what is downloaded changed.
    this.addEventListener('storage-change', () => this.engine?.forgetDownloads());
  }

  /** The open chat (null = a new chat). */
  get sessionId(): string | null {
    return this._sessionId;
  }

  override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('services') && this.services) {
      const s = this.services;
      this.store = s.store;
      this.chat = s.chat;
      this.engine = s.engine;
      this.settings = s.settings;
      this.generation = s.generation;
      this.modelSource = s.modelSource ?? { kind: 'hub' };
      this.modelFiles = s.modelFiles ?? browserModelFiles;
      this.storageSpace = s.storageSpace ?? browserStorageSpace;
      this.applyTheme();
      this.configureEngine();
      void this.start();
    }
  }

  override render() {
    if (!this.services || !this._restored) return nothing;
    const seesImages = !this.settings || acceptsImages(this.settings.value);
    return html`
      <a class="skip" href="#composer" @click=${this.skipToComposer}>Skip to the message box</a>
      <aside id="sidebar" aria-label="Chats" @keydown=${this.onSidebarKey}>
        <div class="brand">
          <img src="./icon.svg" alt="" />
          <span>Glimpse</span>
          <button class="icon-btn close" type="button" aria-label="Close the chat list" @click=${() => this.setDrawer(false)}>
            ${icons.close}
          </button>
        </div>
        <session-list .selected=${this._sessionId} @session-select=${this.onSelect}></session-list>
      </aside>
      <button class="scrim" type="button" tabindex="-1" aria-label="Close the chat list" @click=${() => this.setDrawer(false)}></button>
      <main>
        <header>
          <button
            class="icon-btn menu"
            type="button"
            aria-label="Open the chat list"
            aria-controls="sidebar"
            aria-expanded=${this.drawerOpen ? 'true' : 'false'}
            @click=${() => this.setDrawer(true)}
          >
            ${icons.menu}
          </button>
          <h1 class="sr-only">Glimpse</h1>
          ${this.applyUpdate && !this.generation?.busy
            ? html`<button class="btn update" type="button" @click=${() => void this.applyUpdate?.()}>New version — reload</button>`
            : nothing}
          <model-status @load-model=${this.loadModel}></model-status>
          <div class="tools">
            <theme-switch></theme-switch>
            <button class="icon-btn settings" type="button" aria-label="Settings" title="Settings" aria-haspopup="dialog" @click=${() => this.openSettings('general')}>
              ${icons.settings}
            </button>
          </div>
        </header>
        <chat-view .sessionId=${this._sessionId} .acceptsImages=${seesImages} @session-select=${this.onSelect}></chat-view>
      </main>
      ${this._settingsLoaded
        ? html`<settings-panel .open=${this._settingsOpen} .tab=${this._settingsTab} .focusOn=${this._settingsFocus} .sessionId=${this._sessionId}></settings-panel>`
        : nothing}
    `;
  }

  private async start() {
    const { store } = this.services!;
    // Reopen the chat that was open last time, if it still exists.
    try {
      const last = await store.getMeta<string>(LAST_SESSION);
      if (last && (await store.get(last))) this._sessionId = last;
    } catch {
      // A fresh start is fine.
    }
    this._restored = true;
    // Ready to type on arrival (not on touch screens, where focus would open the keyboard over the page).
    await this.updateComplete;
    await this._chatView?.updateComplete;
    if (!matchMedia('(pointer: coarse)').matches) this._chatView?.focusComposer();
    // Fetch the settings dialog while nothing else happens, so it opens at once.
    (window.requestIdleCallback ?? setTimeout)(() => void this.loadSettings().catch(() => undefined));
  }

  /** Device and memory for recent chats follow Settings (another device restarts the engine). */
  private configureEngine() {
    if (!this.settings) return;
    const settings = toEngineSettings(this.settings.value);
    // The model host applies at once (no reload): the engine's next load and the elements below follow it.
    if (JSON.stringify(settings.source) !== JSON.stringify(this.modelSource)) this.modelSource = settings.source;
    this.engine?.configure(settings).catch(() => undefined);
  }

  private applyTheme() {
    const t = this.settings?.value.theme ?? 'system';
    this.theme = t === 'system' ? null : t;
    // The page behind app-root (overscroll, the dialog backdrop) follows too.
    document.documentElement.style.colorScheme = t === 'system' ? 'light dark' : t;
  }

  private onSelect(e: SessionSelectEvent) {
    e.stopPropagation();
    this._sessionId = e.sessionId;
    this.setDrawer(false);
    void this.store?.setMeta(LAST_SESSION, e.sessionId).catch(() => undefined);
    void this.updateComplete.then(() => this._chatView?.focusComposer());
  }

  private openSettings(tab: SettingsTab, focus: SettingsFocus | null = null) {
    this._settingsTab = tab;
    this._settingsFocus = focus;
    void this.loadSettings().then(() => (this._settingsOpen = true));
  }

  private async loadSettings(): Promise<void> {
    await import('./settings-panel');
    this._settingsLoaded = true;
  }

  private onSettingsToggle(e: SettingsToggleEvent) {
    e.stopPropagation();
    if (e.open) this.openSettings(e.tab ?? this._settingsTab, e.focus ?? null);
    else this._settingsOpen = false;
  }

  private loadModel() {
    const model = this.settings?.value.localModel;
    // Failures show in the status bar (the engine's `error` state), so nothing to catch here.
    this.engine?.load(model).catch(() => undefined);
  }

  private setDrawer(open: boolean) {
    if (this.drawerOpen === open) return;
    this.drawerOpen = open;
    void this.updateComplete.then(() => {
      if (open) this.renderRoot.querySelector<HTMLElement>('session-list')?.focus();
      else this.renderRoot.querySelector<HTMLButtonElement>('.menu')?.focus();
    });
  }

  private onSidebarKey(e: KeyboardEvent) {
    if (e.key === 'Escape' && this.drawerOpen) this.setDrawer(false);
  }

  private skipToComposer(e: Event) {
    e.preventDefault();
    this._chatView?.focusComposer();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'app-root': AppRoot;
  }
}
