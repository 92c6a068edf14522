/**
 * The session list as the UI manages it, beyond what the chat service needs (src/chat/repository.ts): rename,
 * delete, search, small app state, and the change events that keep every view (and other tabs) in step.
 * SessionStore (src/storage/sessions.ts) implements it over IndexedDB.
 */
import type { StoredMessage } from './messages';
import type { SessionRecord, SessionSummary } from './repository';

/**
 * A change to the stored chats, announced on the store's `change` event (detail), in this tab and others
 * (`remote`). `message` is set when one stored message was rewritten in place (streamed text, final status):
 * a view that shows it can swap that message instead of reading the chat again; `session` is then the
 * session's list row as it now is (preview, updated_at), for the session list to do the same.
 */
export type SessionChange =
  | { kind: 'created' | 'updated' | 'renamed' | 'cleared' | 'deleted'; sessionId: string; remote?: boolean }
  | { kind: 'messages'; sessionId: string; message?: StoredMessage; session?: SessionSummary; remote?: boolean };

export interface SessionLibrary extends EventTarget {
  get(id: string): Promise<SessionRecord | undefined>;
  /** All sessions, most recently updated first. */
  list(): Promise<SessionSummary[]>;
  rename(sessionId: string, title: string): Promise<SessionRecord>;
  delete(sessionId: string): Promise<void>;
  /** The first matching message text of each session whose messages contain `query` (case-insensitive). */
  searchMessages(query: string): Promise<Map<string, string>>;
  /** Small app state (the last open session), kept with the data it belongs to. */
  getMeta<T>(key: string): Promise<T | undefined>;
  setMeta(key: string, value: unknown): Promise<void>;
}
