/**
 * Import files that are huge, or huge inside: refused before they are read or written, with a reason, and
 * nothing changed. (Broken, foreign and partial files are in test/unit/storage/transfer.test.ts.)
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { InvalidImportError } from '../../../src/errors';
import { SessionStore } from '../../../src/storage/sessions';
import { MAX_IMPORT_BYTES, prepareImport } from '../../../src/storage/transfer';

const asFile = (x: unknown) => new Blob([typeof x === 'string' ? x : JSON.stringify(x)], { type: 'application/json' });
const T = '2026-01-01T00:00:00.000Z';
const session = (i: number, history: unknown[] = []) => ({
  session_id: `s-${i}`, title: `t${i}`, created_at: T, updated_at: T, image_in_context: null, history,
});
const exportOf = (sessions: unknown[]) => ({ format: 'glimpse-export', version: 1, exported_at: T, sessions, images: {} });

async function refused(file: Blob): Promise<string> {
  const store = await SessionStore.open(`import-hardening-${Math.random()}`);
  await store.create({ title: 'mine' });
  const before = JSON.stringify(await store.list());
  const err = await prepareImport(file).then((p) => store.importPrepared(p), (e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidImportError);
  expect(JSON.stringify(await store.list())).toBe(before);
  store.close();
  return (err as Error).message;
}

describe('huge import files', () => {
  it('a file over the size limit is refused without being read', async () => {
    const file = new Blob(['{}']);
    let read = false;
    Object.defineProperty(file, 'size', { value: MAX_IMPORT_BYTES + 1 });
    Object.defineProperty(file, 'text', { value: () => { read = true; return Promise.resolve('{}'); } });
    expect(await refused(file)).toMatch(/it is 513 MB, over the 512 MB limit\. Nothing was changed/);
    expect(read).toBe(false);
  });

  it('more than 10,000 sessions are refused', async () => {
    const sessions = Array.from({ length: 10_001 }, (_, i) => session(i));
    expect(await refused(asFile(exportOf(sessions)))).toMatch(/10001 sessions; at most 10000/);
  });

  it('more than 100,000 messages are refused', async () => {
    const turn = { role: 'user', content: [{ type: 'text', text: 'x' }], timestamp: T };
    const sessions = Array.from({ length: 3 }, (_, i) => session(i, Array.from({ length: 40_000 }, () => turn)));
    expect(await refused(asFile(exportOf(sessions)))).toMatch(/more than 100000 messages/);
  });

  it('JSON nested 100,000 levels deep is "not JSON", not a crash', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(await refused(asFile(deep))).toMatch(/not JSON|not a Glimpse export/);
  });
});
