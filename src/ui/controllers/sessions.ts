import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { SessionLibrary } from '../../chat/library';
import type { SessionSummary } from '../../chat/repository';

export interface SessionMatch {
  session: SessionSummary;
  /** Where the query was found in a message, with some text around it; null when the title matched. */
  snippet: string | null;
}

/**
 * The session list, kept fresh from the store's `change` events (this tab and others), with search
 * across titles and message text. Sessions pending deletion (undo window) are hidden.
 */
export class SessionsController implements ReactiveController {
  sessions: SessionSummary[] = [];
  /** Search results for `query`, or null when not searching. */
  matches: SessionMatch[] | null = null;
  loaded = false;
  error: unknown = null;
  query = '';
  readonly hidden = new Set<string>();

  #store: SessionLibrary | null = null;
  #refreshing: Promise<void> | null = null;
  #again = false;
  readonly #onChange = () => void this.refresh();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly store: () => SessionLibrary | undefined,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.attach();
  }

  hostUpdate(): void {
    if ((this.store() ?? null) !== this.#store) this.attach();
  }

  hostDisconnected(): void {
    this.#store?.removeEventListener('change', this.#onChange);
    this.#store = null;
  }

  get visible(): SessionMatch[] {
    const list = this.matches ?? this.sessions.map((session) => ({ session, snippet: null }));
    return list.filter((m) => !this.hidden.has(m.session.id));
  }

  async setQuery(query: string): Promise<void> {
    this.query = query;
    await this.refresh();
  }

  /** Reloads the list (coalescing bursts of change events into one reload after the current one). */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        await this.load();
      } while (this.#again);
    })().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  private attach(): void {
    this.hostDisconnected();
    const store = this.store();
    if (!store) return;
    this.#store = store;
    store.addEventListener('change', this.#onChange);
    void this.refresh();
  }

  private async load(): Promise<void> {
    const store = this.#store;
    if (!store) return;
    try {
      this.sessions = await store.list();
      const q = this.query.trim().toLowerCase();
      this.matches = q ? await search(store, this.sessions, q) : null;
      this.error = null;
    } catch (err) {
      this.error = err;
    }
    this.loaded = true;
    this.host.requestUpdate();
  }
}

async function search(store: SessionLibrary, sessions: SessionSummary[], q: string): Promise<SessionMatch[]> {
  const hits = sessions.some((s) => !s.title.toLowerCase().includes(q)) ? await store.searchMessages(q) : new Map<string, string>();
  const out: SessionMatch[] = [];
  for (const session of sessions) {
    if (session.title.toLowerCase().includes(q)) {
      out.push({ session, snippet: null });
      continue;
    }
    const text = hits.get(session.id);
    if (text === undefined) continue;
    const at = text.toLowerCase().indexOf(q);
    const start = Math.max(0, at - 24);
    const end = Math.min(text.length, at + q.length + 40);
    out.push({ session, snippet: `${start > 0 ? '…' : ''}${text.slice(start, end).replace(/\s+/g, ' ')}${end < text.length ? '…' : ''}` });
  }
  return out;
}
