import type { LitElement, ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * Keeps a scrolling conversation at its bottom while the user has not scrolled up: after each update and
 * whenever its content grows later (an answer's markdown, a card inside a message), and brings a failed
 * answer's card fully into view once.
 */
export class FollowBottomController implements ReactiveController {
  #stick = true;
  #scroller: HTMLElement | null = null;
  /** Failed answers whose card was already brought into view. */
  readonly #shownCards = new Set<string>();
  readonly #resize = new ResizeObserver(() => this.keepAtBottom());

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  /** Whether the view follows the bottom (false once the reader scrolled up). */
  get following(): boolean {
    return this.#stick;
  }

  /** Back to the latest: scrolls to the bottom and follows it again (“Jump to latest”). */
  jump(): void {
    this.#stick = true;
    this.keepAtBottom();
    this.host.requestUpdate();
  }

  hostDisconnected(): void {
    this.#resize.disconnect();
  }

  /** Starts following `scroller`, watching `content` (inside it) grow. Call once the element rendered. */
  observe(scroller: HTMLElement, content: Element): void {
    this.#scroller = scroller;
    this.#resize.observe(content);
    this.keepAtBottom();
  }

  hostUpdated(): void {
    this.keepAtBottom();
  }

  /** Follows the bottom again (a chat opened, a message sent). */
  stick(): void {
    this.#stick = true;
  }

  /** Bind to the scroller's scroll event: near the bottom follows it, scrolled up stays put. */
  readonly onScroll = (): void => {
    const s = this.#scroller;
    if (!s) return;
    const stick = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
    if (stick === this.#stick) return;
    this.#stick = stick;
    this.host.requestUpdate();
  };

  /**
   * Scrolls a new failure card (`el`, the message `id` shows) fully into view once, just above the composer.
   * The card renders inside its element after this update: scroll once it has its height.
   */
  async revealOnce(id: string, el: Element): Promise<void> {
    if (this.#shownCards.has(id)) return;
    this.#shownCards.add(id);
    await (el as Partial<LitElement>).updateComplete;
    await new Promise(requestAnimationFrame);
    el.scrollIntoView({ block: 'end' });
  }

  private keepAtBottom(): void {
    if (this.#stick && this.#scroller) this.#scroller.scrollTop = this.#scroller.scrollHeight;
  }
}
