import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { SessionChange, SessionLibrary } from '../../chat/library';
import { textOf, type StoredMessage } from '../../chat/messages';
import type { SessionSummary } from '../../chat/repository';

export interface SessionMatch {
  session: SessionSummary;
  /** Where the query was found in a message, with some text around it; null when the title matched. */
  snippet: string | null;
}

/** A message rewritten in place and its session's row as the store wrote it. */
interface Rewrite {
  session: SessionSummary;
  message: StoredMessage;
}

/**
 * The session list, kept fresh from the store's `change` events (this tab and others), with search
 * across titles and message text. Sessions pending deletion (undo window) are hidden. A message rewritten
 * in place (each partial save of a streaming answer) updates its session's row from the event, without
 * reading the store; any other change (a session created, deleted, renamed, cleared, imported, messages
 * added or removed) reads the list again, once per burst.
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
  /** Rewrites seen since the current read began: applied again on top of what it returns. */
  readonly #rewrites = new Map<string, Rewrite>();
  readonly #onChange = (e: Event) => {
    const change = (e as CustomEvent<SessionChange | undefined>).detail;
    if (change?.kind === 'messages' && change.message && change.session && this.rewrite({ session: change.session, message: change.message })) return;
    void this.refresh();
  };

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

  /** Resolves once no reload is running or due (tests, and callers that act on the list as read). */
  async settled(): Promise<void> {
    while (this.#refreshing) await this.#refreshing;
  }

  private attach(): void {
    this.hostDisconnected();
    const store = this.store();
    if (!store) return;
    this.#store = store;
    store.addEventListener('change', this.#onChange);
    void this.refresh();
  }

  /** Swaps in the row of a rewritten message; false when that row is not shown (then the list is read). */
  private rewrite(r: Rewrite): boolean {
    if (!this.sessions.some((s) => s.id === r.session.id)) return false;
    this.#rewrites.set(r.session.id, r);
    this.place(r);
    this.host.requestUpdate();
    return true;
  }

  /** The row, moved to its place by updated_at (newest first), and the search results with it. */
  private place({ session, message }: Rewrite): void {
    const old = this.sessions.find((s) => s.id === session.id);
    if (!old || old.updated_at > session.updated_at) return; // gone, or the list already shows a later state
    this.sessions = byUpdated(this.sessions.filter((s) => s !== old), session);
    const q = this.query.trim().toLowerCase();
    if (this.matches && q) this.matches = rematch(this.matches, this.sessions, session, textOf(message), q);
  }

  private async load(): Promise<void> {
    const store = this.#store;
    if (!store) return;
    this.#rewrites.clear();
    try {
      const sessions = await store.list();
      const q = this.query.trim().toLowerCase();
      const matches = q ? await search(store, sessions, q) : null;
      this.sessions = sessions;
      this.matches = matches;
      // A rewrite announced while reading may be missing from what was read.
      for (const r of this.#rewrites.values()) this.place(r);
      this.error = null;
    } catch (err) {
      this.error = err;
    }
    this.loaded = true;
    this.host.requestUpdate();
  }
}

/** `rows` (newest first, without `row`) with `row` in its place. */
function byUpdated(rows: SessionSummary[], row: SessionSummary): SessionSummary[] {
  const at = rows.findIndex((s) => s.updated_at <= row.updated_at);
  return at < 0 ? [...rows, row] : [...rows.slice(0, at), row, ...rows.slice(at)];
}

/**
 * Search results after one session's message was rewritten: in the list's order, and with that session
 * added when its title or the message now mentions `q` (streamed text only grows, so none leaves).
 */
function rematch(matches: SessionMatch[], sessions: SessionSummary[], changed: SessionSummary, text: string, q: string): SessionMatch[] {
  const snippets = new Map(matches.map((m) => [m.session.id, m.snippet]));
  if (!snippets.has(changed.id)) {
    if (changed.title.toLowerCase().includes(q)) snippets.set(changed.id, null);
    else if (text.toLowerCase().includes(q)) snippets.set(changed.id, snippetOf(text, q));
  }
  return sessions.filter((s) => snippets.has(s.id)).map((session) => ({ session, snippet: snippets.get(session.id) ?? null }));
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
    if (text !== undefined) out.push({ session, snippet: snippetOf(text, q) });
  }
  return out;
}

/** Where `q` is found in `text`, with some text around it. */
function snippetOf(text: string, q: string): string {
  const at = text.toLowerCase().indexOf(q);
  const start = Math.max(0, at - 24);
  const end = Math.min(text.length, at + q.length + 40);
  return `${start > 0 ? '…' : ''}${text.slice(start, end).replace(/\s+/g, ' ')}${end < text.length ? '…' : ''}`;
}
