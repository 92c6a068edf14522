import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * Re-renders the host whenever an event target (a service) announces a change, while the host is connected.
 * The target can arrive late (from a context), so it is read through a getter at connect time.
 */
export class ListenController implements ReactiveController {
  #bound: EventTarget | null = null;
  readonly #handler = (e: Event) => {
    this.onEvent?.(e);
    this.host.requestUpdate();
  };

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly target: () => EventTarget | undefined,
    private readonly events: readonly string[],
    private readonly onEvent?: (e: Event) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.bind();
  }

  hostUpdate(): void {
    // The context value may have been provided after connect.
    if (this.#bound !== (this.target() ?? null)) this.bind();
  }

  hostDisconnected(): void {
    this.unbind();
  }

  private bind(): void {
    this.unbind();
    const t = this.target();
    if (!t) return;
    for (const e of this.events) t.addEventListener(e, this.#handler);
    this.#bound = t;
  }

  private unbind(): void {
    if (!this.#bound) return;
    for (const e of this.events) this.#bound.removeEventListener(e, this.#handler);
    this.#bound = null;
  }
}
