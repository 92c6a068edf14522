import * as v from 'valibot';
import { IMAGE_HASH_PATTERN, SESSION_ID_PATTERN } from '../chat/ids';
import { hashBlob } from '../chat/images';
import type { MessageStatus, ReplyDetails, Role, StoredMessage } from '../chat/messages';
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

const ROLES = ['user', 'assistant', 'system'] as const satisfies readonly Role[];
const STATUSES = ['complete', 'streaming', 'stopped', 'error', 'interrupted'] as const satisfies readonly MessageStatus[];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp'] as const;

/*
 * The file's schema. Objects are strict: a field this version does not know is refused with its path, not
 * carried into the database unchecked. Messages read after "session 1, message 2 …" (see describe()).
 */
const timestamp = (name: string) => v.pipe(v.string(), v.regex(ISO, `has no valid ISO-8601 "${name}" timestamp`));
// JSON writes a NaN or Infinity as null: such a figure is dropped, not a reason to refuse the file.
const count = v.optional(v.pipe(v.nullable(v.number()), v.transform((n) => (n !== null && Number.isFinite(n) ? n : undefined))));

const DetailsSchema = v.strictObject({
  model: v.string(), backend: v.string(), device: v.optional(v.string()), tokens: count, tokensPerSecond: count,
  timeToFirstTokenMs: count, totalMs: count, imageTokens: count, promptTokens: count, cachedTokens: count,
  visionRan: v.optional(v.boolean()), featuresReused: v.optional(v.boolean()),
}, 'has invalid "details"');
// The import accepts exactly what an export writes: this fails to compile when ReplyDetails changes alone.
const sameDetails: [ReplyDetails, v.InferOutput<typeof DetailsSchema>] extends [v.InferOutput<typeof DetailsSchema>, ReplyDetails]
  ? true : never = true;
void sameDetails;

const MessageSchema = v.strictObject({
  role: v.picklist(ROLES, (i) => `has an unknown role "${String(i.input).slice(0, 40)}"`),
  content: v.array(v.variant('type', [
    v.strictObject({ type: v.literal('image') }),
    v.strictObject({ type: v.literal('text'), text: v.string() }),
  ], 'has a content part that is neither text nor image'), 'has no "content" list'),
  timestamp: timestamp('timestamp'),
  image: v.optional(v.pipe(v.string(), v.regex(IMAGE_HASH_PATTERN, 'has an invalid image reference'))),
  // A turn that was streaming when exported is not streaming any more.
  status: v.optional(v.pipe(v.picklist(STATUSES, 'has an unknown status'),
    v.transform((st) => (st === 'streaming' ? 'interrupted' : st)))),
  details: v.optional(DetailsSchema),
}, 'is not an object');

const SessionSchema = v.strictObject({
  session_id: v.pipe(v.string('has no valid "session_id"'), v.regex(SESSION_ID_PATTERN, 'has no valid "session_id"')),
  title: v.pipe(v.string('has no "title"'), v.transform((t) => t.slice(0, 200))),
  custom_title: v.optional(v.boolean()),
  created_at: timestamp('created_at'),
  updated_at: timestamp('updated_at'),
  image_in_context: v.nullable(v.pipe(v.string('has an invalid "image_in_context"'),
    v.regex(IMAGE_HASH_PATTERN, 'has an invalid "image_in_context"'))),
  history: v.array(MessageSchema, 'has no "history" list'),
}, 'is not an object');

const FileSchema = v.strictObject({
  format: v.literal(EXPORT_FORMAT),
  version: v.number(),
  exported_at: v.optional(v.string()),
  sessions: v.array(SessionSchema),
  images: v.record(v.string(), v.strictObject({
    type: v.pipe(v.string(), v.check((t) => (IMAGE_TYPES as readonly string[]).includes(t),
      (i) => `has the unsupported type "${String(i.input).slice(0, 60)}"`)),
    data: v.string(),
  }, 'is not an image {type, data}')),
});

/** What an export writes (a streaming turn may still say so; the import reads it as interrupted). */
export type ExportedMessage = v.InferInput<typeof MessageSchema>;
export type ExportedSession = v.InferInput<typeof SessionSchema>;
export type ExportFile = v.InferInput<typeof FileSchema>;
/** A session as an import reads it: checked, titles cut to 200 characters, no turn left streaming. */
export type ImportedSession = v.InferOutput<typeof SessionSchema>;

/** A validated import, ready to be written in one transaction. */
export interface PreparedImport {
  sessions: ImportedSession[];
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

const fail = (message: string, data: Record<string, unknown> = {}): never => {
  throw new InvalidImportError(`This file cannot be imported: ${message} Nothing was changed.`, data);
};

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

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

  const total = sessions.reduce<number>((n, x) => n + (isObject(x) && Array.isArray(x.history) ? x.history.length : 0), 0);
  if (total > MAX_MESSAGES) fail(`it has more than ${MAX_MESSAGES} messages.`);

  const parsed = v.safeParse(FileSchema, root);
  if (!parsed.success) return fail(describe(parsed.issues[0]), { path: pathOf(parsed.issues[0]) });
  const checked = parsed.output.sessions;
  const needed = new Set<string>();
  for (const session of checked) {
    if (session.image_in_context) needed.add(session.image_in_context);
    for (const m of session.history) if (m.image) needed.add(m.image);
  }
  const rawImages = parsed.output.images;
  const images = new Map<string, Blob>();
  for (const hash of needed) {
    const img = rawImages[hash];
    if (!img) return fail(`an image the history refers to is missing (${hash.slice(0, 12)}…). Export again with images.`, { hash });
    const { data, type } = img;
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

/** `sessions[0].history[1].role` from a valibot issue's path. */
function pathOf(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  }
  return out;
}

/**
 * "session 1, message 2 has an unknown role "wizard" (sessions[0].history[1].role)." for a person, with the
 * path of the field at fault for whoever fixes the file.
 */
function describe(issue: v.BaseIssue<unknown>): string {
  const path = issue.path ?? [];
  const keys = path.map((p) => (p as { key: unknown }).key);
  let where = 'the file';
  if (keys[0] === 'sessions' && typeof keys[1] === 'number') {
    where = `session ${keys[1] + 1}`;
    if (keys[2] === 'history' && typeof keys[3] === 'number') where += `, message ${keys[3] + 1}`;
  } else if (keys[0] === 'images' && typeof keys[1] === 'string') {
    where = `an image (${keys[1].slice(0, 12)}…)`;
  }
  const last = path.at(-1) as { origin?: string; key?: unknown } | undefined;
  const unknownField = issue.expected === 'never' && last?.origin === 'key';
  const what = unknownField ? `has a field this version does not know, "${String(last.key).slice(0, 60)}"` : issue.message;
  return `${where} ${what} (${pathOf(issue) || 'top level'}).`;
}
