import { SessionNotFoundError } from '../../errors';
import { chatMarkdown } from '../../storage/markdown-export';
import type { ChatArchive } from '../../storage/session-transfer';
import { prepareImport } from '../../storage/transfer';
import { isoDay } from '../format';

/**
 * Export and import of chats for the Storage tab: file names, the download, and the result in words.
 * The file format and its validation live in src/storage/transfer.ts.
 */

export interface ExportedChats {
  blob: Blob;
  name: string;
  sessions: number;
}

export interface ImportResult {
  imported: number;
  skipped: number;
  images: number;
}

/**
 * A title as part of a file name: letters (any script, with their marks) and digits, the rest one `-`, at
 * most 40 characters. Nothing a file system or a shell treats specially (/ \ : * ? " < > | . spaces) is left, nor
 * the invisible controls that can make a name read backwards.
 */
export function slug(title: string): string {
  const words = title.normalize('NFC').toLowerCase().replace(/[^\p{L}\p{M}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
  return [...words].slice(0, 40).join('').replace(/-+$/, '') || 'chat';
}

/** `glimpse-chats-YYYY-MM-DD.json` for all chats, `glimpse-chat-<title>-YYYY-MM-DD.json` (or `.md`) for one. */
export function exportFileName(date = new Date(), title?: string, extension: 'json' | 'md' = 'json'): string {
  return title === undefined ? `glimpse-chats-${isoDay(date)}.${extension}` : `glimpse-chat-${slug(title)}-${isoDay(date)}.${extension}`;
}

/** All chats (no ids) or the given ones, as a JSON file with their images. */
export async function exportChats(store: ChatArchive, ids?: string[], date = new Date()): Promise<ExportedChats> {
  const file = await store.exportSessions(ids);
  const blob = new Blob([JSON.stringify(file)], { type: 'application/json' });
  const title = ids?.length === 1 ? (file.sessions[0]?.title ?? 'chat') : undefined;
  return { blob, name: exportFileName(date, title), sessions: file.sessions.length };
}

/** One chat, the branch on screen, as a self-contained Markdown file (pictures as data URLs). */
export async function exportChatMarkdown(store: ChatArchive, id: string, date = new Date()): Promise<ExportedChats & { title: string }> {
  const file = await store.exportSessions([id]);
  const session = file.sessions[0];
  if (!session) throw new SessionNotFoundError('This chat no longer exists.', { id });
  const blob = new Blob([chatMarkdown(session, file.images)], { type: 'text/markdown;charset=utf-8' });
  return { blob, name: exportFileName(date, session.title, 'md'), sessions: 1, title: session.title };
}

/** Hands a file to the browser's downloads (an <a download> on a Blob URL, freed a minute later). */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking at once can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Validates the whole file first (InvalidImportError: nothing changed), then writes it in one transaction. */
export async function importChats(store: ChatArchive, file: Blob): Promise<ImportResult> {
  const prepared = await prepareImport(file);
  return store.importPrepared(prepared);
}

const chats = (n: number) => `${n} ${n === 1 ? 'chat' : 'chats'}`;

/** "Imported 2 chats, skipped 1 already here." */
export function describeImport(r: ImportResult): string {
  if (r.imported === 0 && r.skipped > 0) return `Nothing new: ${r.skipped === 1 ? 'the chat is' : `all ${r.skipped} chats are`} already here.`;
  if (r.imported === 0) return 'The file holds no chats.';
  return `Imported ${chats(r.imported)}${r.skipped ? `, skipped ${r.skipped} already here` : ''}.`;
}
