/**
 * The two identifier shapes every border checks, defined once: the chat service, the stores (IndexedDB,
 * files, PostgreSQL), the REST API, the import file schema and the proxy all read them from here.
 */

/** A session id: a letter or digit, then letters, digits, `- _ . :`, at most 128 characters (UUIDs fit). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** An image's content hash: SHA-256 of its bytes, 64 lower-case hex digits. */
export const IMAGE_HASH_PATTERN = /^[0-9a-f]{64}$/;

export const isSessionId = (id: unknown): id is string => typeof id === 'string' && SESSION_ID_PATTERN.test(id);
export const isImageHash = (hash: unknown): hash is string => typeof hash === 'string' && IMAGE_HASH_PATTERN.test(hash);
