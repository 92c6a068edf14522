import * as v from 'valibot';
import { hashBlob } from '../chat/images';
import type { BranchTurn, MessageVersion, ReplyDetails } from '../chat/messages';
import { imagesOf, withBranchImages } from '../chat/repository';
import { InvalidImportError } from '../errors';
import {
  describe,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  FILE_SCHEMAS,
  pathOf,
  type ExportedMessage,
  type ExportedVersion,
  type ImportedMessage,
  type ImportedSession,
  type ImportedVersion,
} from './transfer-schema';

/**
 * Export and import of sessions as one JSON file, images included (base64 inside the file only; in the
 * database images stay Blobs). The history entries are the chat service's history format
 * (`{role, content, timestamp}`) plus bookkeeping: status, error, details, and every other version of a turn
 * with the branch that followed it, so an export → import gives back exactly what was stored. Import
 * validates the whole file before writing anything: a broken, foreign or partial file changes nothing and
 * says what was wrong. The schema itself is in transfer-schema.ts.
 */

export { EXPORT_FORMAT, EXPORT_VERSION } from './transfer-schema';
export type { ExportedMessage, ExportedSession, ExportedVersion, ExportFile } from './transfer-schema';

/** Files larger than this are refused before parsing (a browser tab would struggle anyway). */
export const MAX_IMPORT_BYTES = 512 * 1024 * 1024;
const MAX_SESSIONS = 10_000;
/** Turns in all, those in branches included. */
export const MAX_MESSAGES = 100_000;
/** Other versions in all. */
export const MAX_VERSIONS = 100_000;
/**
 * How deep branches may nest (a version's turns with versions of their own…). Real chats nest a few levels;
 * the cap keeps a hostile file from running the recursive validation out of stack.
 */
export const MAX_DEPTH = 100;

/** A session ready to be written: its transcript as the store keeps turns (ids and places are the store's). */
export interface PreparedSession extends Omit<ImportedSession, 'history'> {
  history: BranchTurn[];
}

/** A validated import, ready to be written in one transaction. */
export interface PreparedImport {
  sessions: PreparedSession[];
  images: Map<string, Blob>;
}

/** A stored message (or a turn in a branch) as the file holds it: every field it has, nothing else. */
export function toExportedMessage(m: BranchTurn): ExportedMessage {
  const out: ExportedMessage = { role: m.role, content: m.content, timestamp: m.timestamp };
  if (m.imageHash) out.image = m.imageHash;
  if (m.status) out.status = m.status;
  if (m.error) out.error = { name: m.error.name, message: m.error.message };
  if (m.details) out.details = m.details;
  if (m.versions) out.versions = m.versions.map(toExportedVersion);
  if (m.version !== undefined) out.version = m.version;
  return out;
}

function toExportedVersion(ver: MessageVersion): ExportedVersion {
  const out: ExportedVersion = { content: ver.content, timestamp: ver.timestamp };
  if (ver.status) out.status = ver.status;
  if (ver.error) out.error = { name: ver.error.name, message: ver.error.message };
  if (ver.details) out.details = ver.details;
  if (ver.following) out.following = ver.following.map(toExportedMessage);
  return out;
}

/** Drops the figures the file had as null (see `count` in the schema). */
function cleanDetails(d: ReplyDetails): ReplyDetails {
  return Object.fromEntries(Object.entries(d).filter(([, x]) => x !== undefined)) as unknown as ReplyDetails;
}

/** A checked turn as the store keeps it. */
function toTurn(m: ImportedMessage): BranchTurn {
  return {
    role: m.role,
    content: m.content,
    timestamp: m.timestamp,
    ...(m.image ? { imageHash: m.image } : {}),
    ...(m.status ? { status: m.status } : {}),
    ...(m.error ? { error: m.error } : {}),
    ...(m.details ? { details: cleanDetails(m.details) } : {}),
    ...(m.versions ? { versions: m.versions.map(toVersion) } : {}),
    ...(m.version !== undefined ? { version: m.version } : {}),
  };
}

function toVersion(ver: ImportedVersion): MessageVersion {
  return {
    content: ver.content,
    timestamp: ver.timestamp,
    ...(ver.status ? { status: ver.status } : {}),
    ...(ver.error ? { error: ver.error } : {}),
    ...(ver.details ? { details: cleanDetails(ver.details) } : {}),
    ...(ver.following ? { following: ver.following.map(toTurn) } : {}),
  };
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

const fail = (message: string, data: Record<string, unknown> = {}): never => {
  throw new InvalidImportError(`This file cannot be imported: ${message} Nothing was changed.`, data);
};

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Counts the turns and versions and how deep branches nest, without recursion, before the (recursive)
 * validation runs: a hostile file is refused here, whatever its shape.
 */
function checkSize(sessions: unknown[]): void {
  let turns = 0;
  let versions = 0;
  const lists: [unknown[], number][] = [];
  for (const s of sessions) if (isObject(s) && Array.isArray(s.history)) lists.push([s.history, 0]);
  for (let next = lists.pop(); next; next = lists.pop()) {
    const [list, depth] = next;
    turns += list.length;
    if (turns > MAX_MESSAGES) fail(`it has more than ${MAX_MESSAGES} messages (versions and branches included).`);
    for (const turn of list) {
      if (!isObject(turn) || !Array.isArray(turn.versions)) continue;
      versions += turn.versions.length;
      if (versions > MAX_VERSIONS) fail(`it has more than ${MAX_VERSIONS} message versions.`);
      for (const ver of turn.versions) {
        if (!isObject(ver) || !Array.isArray(ver.following)) continue;
        if (depth >= MAX_DEPTH) fail(`its message versions nest more than ${MAX_DEPTH} deep.`);
        lists.push([ver.following, depth + 1]);
      }
    }
  }
}

/** The parsed JSON's top level, checked before the schema runs (format, version, sizes). */
function checkTop(json: unknown): { root: Record<string, unknown>; version: 1 | 2 } {
  if (!isObject(json) || json.format !== EXPORT_FORMAT) fail('it is not a Glimpse export (the "format" field is missing or different).');
  const root = json as Record<string, unknown>;
  const version = root.version;
  if (typeof version !== 'number' || version > EXPORT_VERSION) {
    fail(`it was written by a newer Glimpse (format version ${String(version)}); update the app first.`);
  }
  if (version !== 1 && version !== 2) return fail(`its format version ${String(version)} is not one Glimpse ever wrote.`);
  if (!Array.isArray(root.sessions)) fail('"sessions" is not a list.');
  if (!isObject(root.images)) fail('"images" is missing.');
  const sessions = root.sessions as unknown[];
  if (sessions.length > MAX_SESSIONS) fail(`it has ${sessions.length} sessions; at most ${MAX_SESSIONS} can be imported at once.`);
  checkSize(sessions);
  return { root, version };
}

/** Parses and checks an export file (format version 1 or 2) completely; throws InvalidImportError naming the first problem. */
export async function prepareImport(file: Blob): Promise<PreparedImport> {
  if (file.size === 0) fail('it is empty.');
  if (file.size > MAX_IMPORT_BYTES) fail(`it is ${Math.ceil(file.size / 2 ** 20)} MB, over the ${MAX_IMPORT_BYTES / 2 ** 20} MB limit.`);
  let json: unknown;
  try {
    json = JSON.parse(await file.text());
  } catch {
    return fail('it is not JSON (is it a Glimpse export?).');
  }
  const { root, version } = checkTop(json);
  let parsed;
  try {
    parsed = v.safeParse(FILE_SCHEMAS[version], root);
  } catch (err) {
    // checkSize bounds the nesting far below what runs out of stack (800 levels ran in Node); this is the fence behind it.
    if (err instanceof RangeError) return fail('it is nested too deeply to read.');
    throw err;
  }
  if (!parsed.success) return fail(describe(parsed.issues[0]), { path: pathOf(parsed.issues[0]) });
  const sessions: PreparedSession[] = (parsed.output.sessions as ImportedSession[]).map((s) => ({
    ...s,
    // A version 1 file left out "complete"; a version 2 file writes every status a turn has.
    history: s.history.map((m) => (version === 1 ? { ...toTurn(m), status: m.status ?? 'complete' } : toTurn(m))),
  }));
  const needed = new Set<string>();
  for (const session of sessions) {
    if (session.image_in_context) needed.add(session.image_in_context);
    for (const m of session.history) for (const hash of imagesOf(withBranchImages(m))) needed.add(hash);
  }
  return { sessions, images: await readImages(needed, parsed.output.images) };
}

/** The pictures the history refers to, each checked against its hash. */
async function readImages(needed: Set<string>, raw: Record<string, { type: string; data: string }>): Promise<Map<string, Blob>> {
  const images = new Map<string, Blob>();
  for (const hash of needed) {
    const img = raw[hash];
    if (!img) return fail(`an image the history refers to is missing (${hash.slice(0, 12)}…). Export again with images.`, { hash });
    let blob: Blob;
    try {
      blob = base64ToBlob(img.data, img.type);
    } catch {
      return fail(`an image (${hash.slice(0, 12)}…) is not valid base64.`);
    }
    if ((await hashBlob(blob)) !== hash) fail(`an image (${hash.slice(0, 12)}…) does not match its checksum; the file is damaged.`);
    images.set(hash, blob);
  }
  return images;
}
