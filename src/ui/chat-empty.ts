import { consume } from '@lit/context';
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { EngineController } from '../engine/api';
import { engineContext, settingsContext } from './contexts';
import { ListenController } from './controllers/listen';
import { ModelAvailability } from './controllers/model-availability';
import { remoteReadsImages, type SettingsStore } from './services/settings';
import { base } from './styles/theme';
import { icons } from './styles/icons';

/**
 * The first screen of a new chat: what to do, what the model costs on this device — the download size, or
 * that it is already here (the same figures as the status line, from the same source) — and the privacy
 * promise.
 */
@customElement('chat-empty')
export class ChatEmpty extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
        max-width: 34rem;
        margin: 0 auto;
        padding: 3rem 1.25rem 1rem;
        text-align: center;
      }
      h2 {
        font-size: 1.5rem;
        margin: 0 0 0.5rem;
      }
      ol {
        text-align: left;
        display: grid;
        gap: 0.35rem;
        list-style: decimal;
        padding: 0 0 0 1.4rem;
        margin: 1.2rem auto;
        max-width: 26rem;
        font-size: 0.95rem;
      }
      .size {
        white-space: nowrap;
      }
      .promise {
        display: inline-flex;
        gap: 0.45rem;
        align-items: center;
        font-size: 0.88rem;
        background: var(--bg-soft);
        border: 1px solid var(--border);
        border-radius: 999px;
        padding: 0.35rem 0.85rem;
      }
      .promise svg {
        width: 16px;
        height: 16px;
      }
    `,
  ];

  @consume({ context: settingsContext }) @property({ attribute: false }) settings?: SettingsStore;
  @consume({ context: engineContext }) @property({ attribute: false }) engine?: EngineController;

  readonly #availability = new ModelAvailability(this, () => this.engine, () => this.settings?.value.localModel ?? this.engine?.model ?? '');

  constructor() {
    super();
    new ListenController(this, () => this.settings, ['change']);
    new ListenController(this, () => this.engine, ['status']);
  }

  override render() {
    const remote = this.settings?.value.backend === 'remote';
    const textOnly = remote && !remoteReadsImages(this.settings!.value);
    if (textOnly) {
      // No photo steps: this model would not see the photo.
      return html`<section aria-labelledby="empty-title">
        <h2 id="empty-title">What would you like to ask?</h2>
        <p class="muted">Glimpse is a private chat; this remote model reads text only.</p>
        <ol class="steps">
          <li>Type a question below, then follow up: the conversation is kept.</li>
          <li>To ask about photos, choose a model that reads images (Settings), or “On this device”.</li>
        </ol>
        <p class="promise">${icons.lock} Remote mode: text goes to your own proxy</p>
      </section>`;
    }
    return html`<section aria-labelledby="empty-title">
      <h2 id="empty-title">What would you like to look at?</h2>
      <p class="muted">Glimpse is a private chat about your photos, powered by a small vision model.</p>
      <ol class="steps">
        <li>Attach a photo: the image button, drag it here, or paste it.</li>
        <li>Ask a question about it, then follow up without attaching it again.</li>
        ${remote ? html`<li>The remote model sees the photo in context, downscaled, with your question.</li>` : this.modelStep()}
      </ol>
      <p class="promise">${icons.lock} ${remote ? 'Remote mode: your question and photo go to your own proxy' : 'Runs on your device; nothing is uploaded'}</p>
    </section>`;
  }

  private modelStep() {
    const status = this.engine?.status.state;
    if (status === 'ready' || status === 'generating') return html`<li>The model is ready on this device.</li>`;
    const a = this.#availability;
    if (a.downloaded) return html`<li>The model is already on this device: it loads when you ask, and works offline.</li>`;
    return html`<li>
      The first answer downloads the model once${a.size ? html` (<span class="size">${a.size}</span> on this device)` : ''}; after that it
      works offline.
    </li>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'chat-empty': ChatEmpty;
  }
}
