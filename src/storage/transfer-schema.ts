import * as v from 'valibot';
import { IMAGE_HASH_PATTERN, SESSION_ID_PATTERN } from '../chat/ids';
import type { ContentPart, MessageStatus, ReplyDetails, Role } from '../chat/messages';

/**
 * The export file's schema (valibot), and its problems in words. Objects are strict: a field this version
 * does not know is refused with its path, not carried into the database unchecked. Messages read after
 * "session 1, message 2 …" (see describe()).
 *
 * Format versions:
 *   1: the transcript on screen (role, content, timestamp, image, status, details).
 *   2: every message also carries `error` (a failed answer's {name, message}), its other `versions` (earlier
 *      answers from Regenerate, the user's text before an edit), each with the turns that `following` it
 *      (recursively, with their own image refs and versions), and `version`: which of them all is shown.
 */

export const EXPORT_FORMAT = 'glimpse-export';
export const EXPORT_VERSION = 2;

const ROLES = ['user', 'assistant', 'system'] as const satisfies readonly Role[];
const STATUSES = ['complete', 'streaming', 'stopped', 'error', 'interrupted'] as const satisfies readonly MessageStatus[];
const FINISH_REASONS = ['stop', 'length'] as const satisfies readonly NonNullable<ReplyDetails['finishReason']>[];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp'] as const;

const timestamp = (name: string) => v.pipe(v.string(), v.regex(ISO, `has no valid ISO-8601 "${name}" timestamp`));
// JSON writes a NaN or Infinity as null: such a figure is dropped, not a reason to refuse the file.
const count = v.optional(v.pipe(v.nullable(v.number()), v.transform((n) => (n !== null && Number.isFinite(n) ? n : undefined))));

const DetailsSchema = v.strictObject({
  model: v.string(), backend: v.string(), device: v.optional(v.string()), tokens: count, tokensPerSecond: count,
  timeToFirstTokenMs: count, totalMs: count, imageTokens: count, promptTokens: count, cachedTokens: count,
  visionRan: v.optional(v.boolean()), featuresReused: v.optional(v.boolean()), temperature: count, seed: count,
  finishReason: v.optional(v.picklist(FINISH_REASONS, 'has an unknown "finishReason"')), continued: count,
}, 'has invalid "details"');

type RequiredKeys<T> = { [K in keyof T]-?: Record<string, never> extends Pick<T, K> ? never : K }[keyof T];
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/**
 * True when A and B have the same fields, each as optional in both, and the values fit both ways. Stronger
 * than mutual assignability, which an optional field missing on one side passes.
 */
export type Exact<A, B> = [Mutual<A, B>, Mutual<keyof A, keyof B>, Mutual<RequiredKeys<A>, RequiredKeys<B>>] extends [true, true, true] ? true : false;
// The import accepts exactly what an export writes: this fails to compile when ReplyDetails gains, loses or
// changes a field alone.
const sameDetails: Exact<ReplyDetails, v.InferOutput<typeof DetailsSchema>> = true;
void sameDetails;

const ContentSchema = v.array(v.variant('type', [
  v.strictObject({ type: v.literal('image') }),
  v.strictObject({ type: v.literal('text'), text: v.string() }),
], 'has a content part that is neither text nor image'), 'has no "content" list');
// A turn that was streaming when exported is not streaming any more.
const StatusSchema = v.optional(v.pipe(v.picklist(STATUSES, 'has an unknown status'),
  v.transform((st) => (st === 'streaming' ? 'interrupted' : st))));
const ErrorSchema = v.optional(v.strictObject({ name: v.string(), message: v.string() }, 'has an invalid "error" (not {name, message})'));
const imageRef = (what: string) => v.pipe(v.string(what), v.regex(IMAGE_HASH_PATTERN, what));

/** What version 1 and 2 messages share. */
const turnFields = {
  role: v.picklist(ROLES, (i) => `has an unknown role "${String(i.input).slice(0, 40)}"`),
  content: ContentSchema,
  timestamp: timestamp('timestamp'),
  image: v.optional(imageRef('has an invalid image reference')),
  status: StatusSchema,
  details: v.optional(DetailsSchema),
};

const MessageSchemaV1 = v.strictObject(turnFields, 'is not an object');

type Status = v.InferInput<typeof StatusSchema>;
type ReadStatus = v.InferOutput<typeof StatusSchema>;
type Details = v.InferInput<typeof DetailsSchema>;
type ReadDetails = v.InferOutput<typeof DetailsSchema>;
type TurnError = v.InferOutput<typeof ErrorSchema>;

/** A message (or a turn in a branch) as a version 2 file holds it. */
export interface ExportedMessage {
  role: Role;
  content: ContentPart[];
  timestamp: string;
  image?: string;
  status?: Status;
  error?: TurnError;
  details?: Details;
  /** The other versions of this turn, the shown one not included (as StoredMessage.versions). */
  versions?: ExportedVersion[];
  /** Where the shown version sits among all of them, 0-based. */
  version?: number;
}
/** Another version of a turn, with the turns that followed it. */
export interface ExportedVersion {
  content: ContentPart[];
  timestamp: string;
  status?: Status;
  error?: TurnError;
  details?: Details;
  following?: ExportedMessage[];
}
/** A message as an import reads it: checked, no turn left streaming. */
export interface ImportedMessage extends Omit<ExportedMessage, 'status' | 'details' | 'versions'> {
  status?: ReadStatus;
  details?: ReadDetails;
  versions?: ImportedVersion[];
}
export interface ImportedVersion extends Omit<ExportedVersion, 'status' | 'details' | 'following'> {
  status?: ReadStatus;
  details?: ReadDetails;
  following?: ImportedMessage[];
}

const VersionSchema: v.GenericSchema<ExportedVersion, ImportedVersion> = v.strictObject({
  content: ContentSchema,
  timestamp: timestamp('timestamp'),
  status: StatusSchema,
  error: ErrorSchema,
  details: v.optional(DetailsSchema),
  following: v.optional(v.array(v.lazy(() => MessageSchemaV2), 'has no "following" list')),
}, 'is not a version object');

const MessageSchemaV2: v.GenericSchema<ExportedMessage, ImportedMessage> = v.pipe(
  v.strictObject({
    ...turnFields,
    error: ErrorSchema,
    versions: v.optional(v.array(VersionSchema, 'has no "versions" list')),
    version: v.optional(v.pipe(v.number(), v.integer('has an invalid "version"'), v.minValue(0, 'has an invalid "version"'))),
  }, 'is not an object'),
  v.check((m) => (m.version ?? 0) <= (m.versions?.length ?? 0),
    (i) => {
      const others = (i.input as { versions?: unknown[] }).versions?.length ?? 0;
      return `has "version" ${String((i.input as { version?: number }).version)}, but its versions are numbered 0 to ${others}`;
    }),
);

const sessionSchema = <M extends v.GenericSchema>(message: M) => v.strictObject({
  session_id: v.pipe(v.string('has no valid "session_id"'), v.regex(SESSION_ID_PATTERN, 'has no valid "session_id"')),
  title: v.pipe(v.string('has no "title"'), v.transform((t) => t.slice(0, 200))),
  custom_title: v.optional(v.boolean()),
  created_at: timestamp('created_at'),
  updated_at: timestamp('updated_at'),
  image_in_context: v.nullable(imageRef('has an invalid "image_in_context"')),
  history: v.array(message, 'has no "history" list'),
}, 'is not an object');

const fileSchema = <M extends v.GenericSchema>(message: M) => v.strictObject({
  format: v.literal(EXPORT_FORMAT),
  version: v.number(),
  exported_at: v.optional(v.string()),
  sessions: v.array(sessionSchema(message)),
  images: v.record(v.string(), v.strictObject({
    type: v.pipe(v.string(), v.check((t) => (IMAGE_TYPES as readonly string[]).includes(t),
      (i) => `has the unsupported type "${String(i.input).slice(0, 60)}"`)),
    data: v.string(),
  }, 'is not an image {type, data}')),
});

/** The schema for each format version (a version 1 file has no versions, nor errors, to carry). */
export const FILE_SCHEMAS = { 1: fileSchema(MessageSchemaV1), 2: fileSchema(MessageSchemaV2) } as const;

export type ExportedSession = v.InferInput<ReturnType<typeof sessionSchema<typeof MessageSchemaV2>>>;
export type ExportFile = v.InferInput<(typeof FILE_SCHEMAS)[2]>;
/** A session as an import reads it (either version): checked, titles cut to 200 characters, no turn left streaming. */
export type ImportedSession = v.InferOutput<ReturnType<typeof sessionSchema<typeof MessageSchemaV2>>>;

/** `sessions[0].history[1].role` from a valibot issue's path. */
export function pathOf(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  }
  return out;
}

/** The words for each list on the way down to a turn. */
const PLACES: Record<string, string> = { history: 'message', versions: 'other version', following: 'following turn' };

/**
 * "session 1, message 2 has an unknown role "wizard" (sessions[0].history[1].role)." for a person, with the
 * path of the field at fault for whoever fixes the file. Within versions: "session 1, message 2, other
 * version 1, following turn 3 has …".
 */
export function describe(issue: v.BaseIssue<unknown>): string {
  const path = issue.path ?? [];
  const keys = path.map((p) => (p as { key: unknown }).key);
  let where = 'the file';
  if (keys[0] === 'sessions' && typeof keys[1] === 'number') {
    where = `session ${keys[1] + 1}`;
    for (let i = 2; i + 1 < keys.length; i += 2) {
      const place = PLACES[String(keys[i])];
      const at = keys[i + 1];
      if (!place || typeof at !== 'number') break;
      where += `, ${place} ${at + 1}`;
    }
  } else if (keys[0] === 'images' && typeof keys[1] === 'string') {
    where = `an image (${keys[1].slice(0, 12)}…)`;
  }
  const last = path.at(-1) as { origin?: string; key?: unknown } | undefined;
  const unknownField = issue.expected === 'never' && last?.origin === 'key';
  const what = unknownField ? `has a field this version does not know, "${String(last.key).slice(0, 60)}"` : issue.message;
  return `${where} ${what} (${pathOf(issue) || 'top level'}).`;
}
