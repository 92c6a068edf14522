/**
 * Messages in PostgreSQL: `glimpse_messages` holds each StoredMessage as JSON at (session_id, seq), and
 * `glimpse_branch_images` one row per picture its versions refer to (its `branchImages`), kept in step with
 * the record by every write here. The caller holds the session's row lock and the pictures' locks.
 */
import type { PoolClient } from 'pg';
import type { StoredMessage } from '../../chat/messages';

interface MessageRow {
  body: string;
}

const parseMessage = (row: MessageRow) => JSON.parse(row.body) as StoredMessage;

/** The session's messages with fromSeq ≤ seq < toSeq, oldest first. */
export async function readMessages(c: Pick<PoolClient, 'query'>, sessionId: string, fromSeq = 0, toSeq = 2 ** 31 - 1): Promise<StoredMessage[]> {
  const { rows } = await c.query<MessageRow>(
    'SELECT body FROM glimpse_messages WHERE session_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq',
    [sessionId, fromSeq, toSeq],
  );
  return rows.map(parseMessage);
}

export async function readMessage(c: PoolClient, sessionId: string, seq: number): Promise<StoredMessage | undefined> {
  return (await readMessages(c, sessionId, seq, seq + 1))[0];
}

async function insertBranchImages(c: PoolClient, m: StoredMessage): Promise<void> {
  if (!m.branchImages?.length) return;
  await c.query(
    'INSERT INTO glimpse_branch_images (session_id, seq, hash) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING',
    [m.sessionId, m.seq, m.branchImages],
  );
}

/** Inserts a message and the pictures its versions refer to (they must be stored). */
export async function insertMessage(c: PoolClient, m: StoredMessage): Promise<void> {
  await c.query(
    'INSERT INTO glimpse_messages (session_id, seq, id, rev, image_hash, body) VALUES ($1, $2, $3, $4, $5, $6)',
    [m.sessionId, m.seq, m.id, m.rev ?? 0, m.imageHash ?? null, JSON.stringify(m)],
  );
  await insertBranchImages(c, m);
}

/**
 * Rewrites a message in place. Returns the pictures its versions referred to before and no longer do (for
 * the clean-up).
 */
export async function rewriteMessage(c: PoolClient, existing: StoredMessage, next: StoredMessage): Promise<string[]> {
  await c.query('UPDATE glimpse_messages SET rev = $3, body = $4 WHERE session_id = $1 AND seq = $2', [
    next.sessionId, next.seq, next.rev ?? 0, JSON.stringify(next),
  ]);
  const before = existing.branchImages ?? [];
  const after = next.branchImages ?? [];
  if (before.length === after.length && before.every((h) => after.includes(h))) return [];
  await c.query('DELETE FROM glimpse_branch_images WHERE session_id = $1 AND seq = $2', [next.sessionId, next.seq]);
  await insertBranchImages(c, next);
  return before.filter((h) => !after.includes(h));
}

/** Deletes the session's messages with seq ≥ fromSeq (their version pictures' rows go with them); returns them, oldest first. */
export async function deleteMessages(c: PoolClient, sessionId: string, fromSeq = 0): Promise<StoredMessage[]> {
  const { rows } = await c.query<MessageRow>('DELETE FROM glimpse_messages WHERE session_id = $1 AND seq >= $2 RETURNING body', [sessionId, fromSeq]);
  return rows.map(parseMessage).sort((a, b) => a.seq - b.seq);
}
