import { consume } from '@lit/context';
import { LitElement, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { ImageDetail } from '../chat/backend';
import type { ChatApi } from '../chat/api';
import { planImage } from '../engine/image';
import { chatContext } from './contexts';
import { estimateTextTokens } from './tokens';
import { DismissEvent, ImageRemoveEvent, SendMessageEvent, StopGenerationEvent } from './events';
import { icons } from './styles/icons';
import { composerStyles } from './styles/composer';
import './error-banner';
import './image-chip';
import './token-meter';

interface PendingImage {
  blob: Blob;
  name: string;
  url: string;
  width: number;
  height: number;
  /** An animated GIF/PNG/WebP: the model reads its first frame only, and the chip says so. */
  animated: boolean;
}

/** The image in the model's context, shown when nothing new is attached. */
export interface ContextImageView {
  url: string;
  width: number;
  height: number;
}

/**
 * Where a message is written: multi-line text (Enter sends, Shift+Enter adds a line), an image by picker,
 * drag-and-drop, paste or the phone camera, shown as a chip with its token cost. Images are checked
 * (real type, size) as soon as they are attached, and a refused file leaves the typed text alone.
 *
 * @fires send-message - Send or Enter; the handler sets `accepted`, and the text clears once it is saved
 * @fires stop-generation - Stop while an answer is being written
 * @fires image-remove - the chip of the image already in context was removed
 */
@customElement('chat-composer')
export class ChatComposer extends LitElement {
  static override styles = composerStyles;

  @consume({ context: chatContext }) @property({ attribute: false }) chat?: ChatApi;

  /** An answer is being written in this chat: show Stop instead of Send. */
  @property({ type: Boolean }) generating = false;
  /** Why sending is not possible right now (e.g. another chat is answering); empty when it is. */
  @property() blocked = '';
  /** What the message being sent waits for (e.g. another tab's answer in this chat); empty = nothing. */
  @property() status = '';
  /** Image detail, for the token cost on the chip. */
  @property() detail: ImageDetail = 'auto';
  /** False when the backend cannot see images (the remote model is text only). */
  @property({ type: Boolean, attribute: 'accepts-images' }) acceptsImages = true;
  /** The image already in the model's context (the chat's latest image), or null. */
  @property({ attribute: false }) contextImage: ContextImageView | null = null;
  /** A refused send (from the handler), shown above the box. */
  @property({ attribute: false }) error: unknown = null;
  /** Tokens the model would read of the conversation now, images not included (null: no meter). */
  @property({ attribute: false }) contextTokens: number | null = null;
  /** The most tokens the model reads. */
  @property({ type: Number }) tokenLimit = 8192;
  @property({ type: Boolean, reflect: true }) dragging = false;

  @state() private _text = '';
  @state() private _image: PendingImage | null = null;
  @state() private _attachError: unknown = null;
  @state() private _checking = false;
  @state() private _sending = false;

  @query('textarea') private _textarea!: HTMLTextAreaElement;
  /** The image check under way: Enter waits for it, so a question never leaves without its photo. */
  #attaching: Promise<void> | null = null;

  override disconnectedCallback() {
    super.disconnectedCallback();
    if (this._image) URL.revokeObjectURL(this._image.url);
  }

  /** Moves the keyboard focus to the message box. */
  override focus() {
    this._textarea?.focus();
  }

  /** Attaches an image (from a picker, a drop, a paste); checks it first and shows why it was refused. */
  attach(file: Blob): Promise<void> {
    const run = this.check(file).finally(() => {
      if (this.#attaching === run) this.#attaching = null;
    });
    this.#attaching = run;
    return run;
  }

  private async check(file: Blob): Promise<void> {
    const chat = this.chat;
    if (!chat) return;
    this._attachError = null;
    this.draftChanged();
    this._checking = true;
    try {
      const { blob, info } = await chat.prepareImage(file);
      if (this._image) URL.revokeObjectURL(this._image.url);
      this._image = {
        blob,
        name: file instanceof File && file.name ? file.name : 'Pasted image',
        url: URL.createObjectURL(blob),
        width: info.width,
        height: info.height,
        animated: info.animated,
      };
    } catch (err) {
      this._attachError = err;
    } finally {
      this._checking = false;
    }
  }

  override render() {
    const error = this._attachError ?? this.error;
    const canSend = !this.blocked && !this._sending && !this._checking && (this._text.trim().length > 0 || !!this._image);
    return html`
      ${error
        ? html`<error-banner class="composer-error" .error=${error} @dismiss=${this.dismissError}></error-banner>`
        : nothing}
      <div class="box" @dragover=${this.onDragOver} @dragleave=${this.onDragLeave} @drop=${this.onDrop}>
        ${this.renderChips()}
        <label class="sr-only" for="message">Message</label>
        <textarea
          dir="auto"
          id="message"
          rows="1"
          placeholder=${this.acceptsImages ? 'Ask about a photo, or anything…' : 'Ask anything…'}
          .value=${this._text}
          @input=${(e: Event) => {
            this._text = (e.target as HTMLTextAreaElement).value;
            this.draftChanged();
          }}
          @keydown=${this.onKeyDown}
          @paste=${this.onPaste}
          aria-describedby="keys"
        ></textarea>
        <div class="row">
          ${this.acceptsImages
            ? html`<button class="icon-btn attach" type="button" aria-label="Attach an image" title="Attach an image" @click=${() => this.pick('picker')}>
                  ${icons.image}
                </button>
                <button class="icon-btn camera" type="button" aria-label="Take a photo" title="Take a photo" @click=${() => this.pick('camera')}>
                  ${icons.camera}
                </button>
                <input id="picker" type="file" accept="image/*" tabindex="-1" aria-hidden="true" @change=${this.onPicked} />
                <input id="camera" type="file" accept="image/*" capture="environment" tabindex="-1" aria-hidden="true" @change=${this.onPicked} />`
            : nothing}
          <span class="hint" id="keys">
            ${this.blocked
              ? this.blocked
              : this.status
                ? html`<span class="waiting">${this.status}</span>`
                : this._checking
                ? 'Checking the image…'
                : html`<span class="keys">Enter to send · Shift+Enter for a new line</span>`}
          </span>
          <span class="spacer"></span>
          ${this.renderMeter()}
          ${this.generating
            ? html`<button class="btn stop" type="button" @click=${this.stop}>${icons.stop} Stop</button>`
            : html`<button class="btn primary send" type="button" aria-label="Send" title="Send (Enter)" ?disabled=${!canSend} @click=${this.send}>
                ${icons.send}
              </button>`}
        </div>
      </div>
    `;
  }

  /** How much of the model's window the next question fills (the image: the attached one, else the one in context). */
  private renderMeter() {
    const image = this._image ?? (this.acceptsImages ? this.contextImage : null);
    // Nothing in context yet and nothing typed: nothing to measure.
    if (this.contextTokens === null || (this.contextTokens === 0 && !this._text && !image)) return nothing;
    const imageTokens = image ? planImage(image.width, image.height, this.detail).tokens : 0;
    const used = this.contextTokens + estimateTextTokens(this._text) + imageTokens;
    return html`<token-meter .used=${used} .limit=${this.tokenLimit} .imageTokens=${imageTokens}></token-meter>`;
  }

  private renderChips() {
    if (this._image) {
      const i = this._image;
      return html`<div class="chips">
        <image-chip
          class="pending"
          .src=${i.url}
          .label=${i.name}
          .tokens=${this.acceptsImages ? planImage(i.width, i.height, this.detail).tokens : null}
          .note=${`${i.width}×${i.height}${i.animated ? ' · animated: only the first frame is used' : ''}${
            this.contextImage && this.acceptsImages ? ' · replaces the image in context when sent' : ''}`}
          remove-label="Remove the attached image"
          @image-remove=${this.removePending}
        ></image-chip>
      </div>`;
    }
    if (this.contextImage && this.acceptsImages) {
      const c = this.contextImage;
      return html`<div class="chips">
        <image-chip
          class="in-context"
          .src=${c.url}
          label="Image in context"
          .tokens=${planImage(c.width, c.height, this.detail).tokens}
          note="follow-ups ask about it"
          remove-label="Remove the image from the model’s context"
        ></image-chip>
      </div>`;
    }
    return nothing;
  }

  private pick(which: 'picker' | 'camera') {
    this.renderRoot.querySelector<HTMLInputElement>(`#${which}`)?.click();
  }

  private async onPicked(e: Event) {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) await this.attach(file);
  }

  private async onPaste(e: ClipboardEvent) {
    const file = [...(e.clipboardData?.files ?? [])][0];
    if (!file) return; // plain text: let the textarea paste it
    e.preventDefault();
    await this.attach(file);
  }

  private onDragOver(e: DragEvent) {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    this.dragging = true;
  }

  private onDragLeave() {
    this.dragging = false;
  }

  private async onDrop(e: DragEvent) {
    const file = e.dataTransfer?.files[0];
    this.dragging = false;
    if (!file) return;
    e.preventDefault();
    e.stopPropagation();
    await this.attach(file);
  }

  private removePending(e: ImageRemoveEvent) {
    e.stopPropagation();
    if (this._image) URL.revokeObjectURL(this._image.url);
    this._image = null;
    this.focus();
  }

  /** A refused send was about the draft as it was: the next change to it (typing, a photo) clears it. */
  private draftChanged() {
    if (this.error) this.dispatchEvent(new DismissEvent());
  }

  private dismissError(e: DismissEvent) {
    e.stopPropagation();
    this._attachError = null;
    this.dispatchEvent(new DismissEvent());
  }

  private onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!this.generating) void this.send();
    }
  }

  private async send() {
    if (this._sending || this.blocked || this.generating) return;
    if (this.#attaching) {
      // Enter while the photo is still being checked: send once the check ends, with the photo. A refused
      // photo sends nothing: the question was about it, and the error says why.
      this._sending = true;
      await this.#attaching;
      this._sending = false;
      if (this.blocked || this.generating || this._attachError) return;
    }
    const text = this._text;
    const image = this._image;
    if (!text.trim() && !image) return;
    this._attachError = null;
    const event = new SendMessageEvent(text, image?.blob ?? null);
    this._sending = true;
    this.dispatchEvent(event);
    const ok = (await event.accepted) ?? false;
    this._sending = false;
    if (ok) {
      // Only clear what was sent: the user may have typed on while it was saved.
      if (this._text === text) this._text = '';
      if (this._image === image && image) {
        URL.revokeObjectURL(image.url);
        this._image = null;
      }
    }
    this.focus();
  }

  private stop() {
    this.dispatchEvent(new StopGenerationEvent());
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'chat-composer': ChatComposer;
  }
}
