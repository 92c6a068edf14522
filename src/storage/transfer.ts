import { hashBlob } from '../chat/images';
import type { ChatMessage, ContentPart, MessageStatus, ReplyDetails, Role, StoredMessage } from '../chat/messages';
import { InvalidImportError } from '../errors';

/**
 * Export and import of sessions as one JSON file, images included (base64 inside the file only; in the
 * database images stay Blobs). The history entries are the chat service's history format
 * (`{role, content, timestamp}`) plus optional bookkeeping. Import validates the whole file before
 * writing anything: a broken, foreign or partial file changes nothing and says what was wrong.
 */

export const EXPORT_FORMAT = 'glimpse-export';
export const EXPORT_VERSION = 1;
/** Files larger than this are refused before parsing (a browser tab would struggle anyway). */
export const MAX_IMPORT_BYTES = 512 * 1024 * 1024;
const MAX_SESSIONS = 10_000;
const MAX_MESSAGES = 100_000;

export interface ExportedMessage extends ChatMessage {
  image?: string;
  status?: MessageStatus;
  details?: ReplyDetails;
}

export interface ExportedSession {
  session_id: string;
  title: string;
  custom_title?: boolean;
  created_at: string;
  updated_at: string;
  image_in_context: string | null;
  history: ExportedMessage[];
}

export interface ExportFile {
  format: typeof EXPORT_FORMAT;
  version: number;
  exported_at: string;
  sessions: ExportedSession[];
  images: Record<string, { type: string; data: string }>;
}

/** A validated import, ready to be written in one transaction. */
export interface PreparedImport {
  sessions: ExportedSession[];
  images: Map<string, Blob>;
}

export function toExportedMessage(m: StoredMessage): ExportedMessage {
  const out: ExportedMessage = { role: m.role, content: m.content, timestamp: m.timestamp };
  if (m.imageHash) out.image = m.imageHash;
  if (m.status && m.status !== 'complete') out.status = m.status;
  if (m.details) out.details = m.details;
  return out;
}

export async function blobToBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function base64ToBlob(data: string, type: string): Blob {
  const s = atob(data);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return new Blob([bytes], { type });
}

const ROLES: readonly Role[] = ['user', 'assistant', 'system'];
const STATUSES: readonly MessageStatus[] = ['complete', 'streaming', 'stopped', 'error', 'interrupted'];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const HASH = /^[0-9a-f]{64}$/;
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp'];

const fail = (message: string, data: Record<string, unknown> = {}): never => {
  throw new InvalidImportError(`This file cannot be imported: ${message} Nothing was changed.`, data);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and checks an export file completely; throws InvalidImportError naming the first problem. */
export async function prepareImport(file: Blob): Promise<PreparedImport> {
  if (file.size === 0) fail('it is empty.');
  if (file.size > MAX_IMPORT_BYTES) fail(`it is ${Math.ceil(file.size / 2 ** 20)} MB, over the ${MAX_IMPORT_BYTES / 2 ** 20} MB limit.`);
  let json: unknown;
  try {
    json = JSON.parse(await file.text());
  } catch {
    return fail('it is not JSON (is it a Glimpse export?).');
  }
  if (!isObject(json) || json.format !== EXPORT_FORMAT) fail('it is not a Glimpse export (the "format" field is missing or different).');
  const root = json as Record<string, unknown>;
  if (typeof root.version !== 'number' || root.version > EXPORT_VERSION) {
    fail(`it was written by a newer Glimpse (format version ${String(root.version)}); update the app first.`);
  }
  if (!Array.isArray(root.sessions)) fail('"sessions" is not a list.');
  if (!isObject(root.images)) fail('"images" is missing.');
  const sessions = root.sessions as unknown[];
  if (sessions.length > MAX_SESSIONS) fail(`it has ${sessions.length} sessions; at most ${MAX_SESSIONS} can be imported at once.`);

  const rawImages = root.images as Record<string, unknown>;
  const needed = new Set<string>();
  let total = 0;
  const checked: ExportedSession[] = sessions.map((s, i) => {
    const where = `session ${i + 1}`;
    if (!isObject(s)) return fail(`${where} is not an object.`);
    if (typeof s.session_id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(s.session_id)) fail(`${where} has no valid "session_id".`);
    if (typeof s.title !== 'string') fail(`${where} has no "title".`);
    for (const k of ['created_at', 'updated_at'] as const) {
      if (typeof s[k] !== 'string' || !ISO.test(s[k] as string)) fail(`${where} has no valid "${k}" timestamp.`);
    }
    if (s.image_in_context !== null && (typeof s.image_in_context !== 'string' || !HASH.test(s.image_in_context))) {
      fail(`${where} has an invalid "image_in_context".`);
    }
    if (!Array.isArray(s.history)) fail(`${where} has no "history" list.`);
    total += (s.history as unknown[]).length;
    if (total > MAX_MESSAGES) fail(`it has more than ${MAX_MESSAGES} messages.`);
    const history = (s.history as unknown[]).map((m, j) => checkMessage(m, `${where}, message ${j + 1}`, needed));
    if (typeof s.image_in_context === 'string') needed.add(s.image_in_context);
    return {
      session_id: s.session_id as string,
      title: (s.title as string).slice(0, 200),
      custom_title: s.custom_title === true,
      created_at: s.created_at as string,
      updated_at: s.updated_at as string,
      image_in_context: (s.image_in_context as string | null) ?? null,
      history,
    };
  });

  const images = new Map<string, Blob>();
  for (const hash of needed) {
    const img = rawImages[hash];
    if (!isObject(img) || typeof img.data !== 'string' || typeof img.type !== 'string') {
      fail(`an image the history refers to is missing (${hash.slice(0, 12)}…). Export again with images.`, { hash });
    }
    const { data, type } = img as { data: string; type: string };
    if (!IMAGE_TYPES.includes(type)) fail(`an image has the unsupported type "${type}".`);
    let blob: Blob;
    try {
      blob = base64ToBlob(data, type);
    } catch {
      return fail(`an image (${hash.slice(0, 12)}…) is not valid base64.`);
    }
    if ((await hashBlob(blob)) !== hash) fail(`an image (${hash.slice(0, 12)}…) does not match its checksum; the file is damaged.`);
    images.set(hash, blob);
  }
  return { sessions: checked, images };
}

function checkMessage(m: unknown, where: string, needed: Set<string>): ExportedMessage {
  if (!isObject(m)) return fail(`${where} is not an object.`);
  if (!ROLES.includes(m.role as Role)) fail(`${where} has an unknown role "${String(m.role)}".`);
  if (typeof m.timestamp !== 'string' || !ISO.test(m.timestamp)) fail(`${where} has no valid ISO-8601 "timestamp".`);
  if (!Array.isArray(m.content)) fail(`${where} has no "content" list.`);
  const content: ContentPart[] = (m.content as unknown[]).map((p) => {
    if (isObject(p) && p.type === 'image') return { type: 'image' };
    if (isObject(p) && p.type === 'text' && typeof p.text === 'string') return { type: 'text', text: p.text };
    return fail(`${where} has a content part that is neither text nor image.`);
  });
  const out: ExportedMessage = { role: m.role as Role, content, timestamp: m.timestamp as string };
  if (m.image !== undefined) {
    if (typeof m.image !== 'string' || !HASH.test(m.image)) fail(`${where} has an invalid image reference.`);
    out.image = m.image as string;
    needed.add(out.image);
  }
  if (m.status !== undefined) {
    if (!STATUSES.includes(m.status as MessageStatus)) fail(`${where} has an unknown status.`);
    // A turn that was streaming when exported is not streaming any more.
    out.status = m.status === 'streaming' ? 'interrupted' : (m.status as MessageStatus);
  }
  if (isObject(m.details) && typeof m.details.model === 'string' && typeof m.details.backend === 'string') {
    out.details = m.details as unknown as ReplyDetails;
  }
  return out;
}
