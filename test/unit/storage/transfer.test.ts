import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, nowIso } from '../../../src/chat/messages';
import { InvalidImportError } from '../../../src/errors';
import { SessionStore } from '../../../src/storage/sessions';
import { prepareImport, type ExportFile } from '../../../src/storage/transfer';
import { makeImage } from '../../fixtures/images';

const open = () => SessionStore.open(`transfer-${Math.random()}`);
const asFile = (x: unknown) => new Blob([typeof x === 'string' ? x : JSON.stringify(x)], { type: 'application/json' });

async function seeded() {
  const store = await open();
  const s = await store.create({ title: 'Harbour' });
  const blob = await makeImage('jpeg', 30, 20, 4);
  const hash = await hashBlob(blob);
  await store.append(s.id, { role: 'user', content: makeContent('What boat?', true), timestamp: nowIso() }, { blob, hash });
  await store.append(s.id, { role: 'assistant', content: makeContent('A ferry.', false), timestamp: nowIso(), status: 'complete' });
  return { store, id: s.id, hash, blob };
}

describe('export → delete → import', () => {
  it('restores the session with its image, in the history format', async () => {
    const { store, id, hash, blob } = await seeded();
    const file = await store.exportSessions();
    expect(file.sessions[0]!.history[0]).toEqual({ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What boat?' }], timestamp: expect.any(String), image: hash });
    expect(Object.keys(file.images)).toEqual([hash]);
    await store.delete(id);
    expect(await store.getImage(hash)).toBeUndefined();

    const result = await store.importPrepared(await prepareImport(asFile(file)));
    expect(result).toEqual({ imported: 1, skipped: 0, images: 1 });
    const [s] = await store.list();
    expect(s).toMatchObject({ id, title: 'Harbour', message_count: 2, has_image: true });
    const img = await store.getImage(hash);
    expect(new Uint8Array(await img!.blob.arrayBuffer())).toEqual(new Uint8Array(await blob.arrayBuffer()));
  });

  it('a figure JSON wrote as null (NaN) is dropped, and a turn exported while streaming comes back interrupted', async () => {
    const { store, id } = await seeded();
    const file = await store.exportSessions([id]);
    file.sessions[0]!.history[1]!.details = { model: 'm', backend: 'local', tokensPerSecond: null, tokens: 3 };
    file.sessions[0]!.history[1]!.status = 'streaming';
    const prepared = await prepareImport(asFile(file));
    expect(prepared.sessions[0]!.history[1]).toMatchObject({ status: 'interrupted', details: { model: 'm', backend: 'local', tokens: 3 } });
    expect(prepared.sessions[0]!.history[1]!.details?.tokensPerSecond).toBeUndefined();
  });

  it('a sampled, cut-off answer imports (details the export writes are details the import knows), and an error keeps its error', async () => {
    const store = await open();
    const s = await store.create({ title: 'Sampled' });
    await store.append(s.id, { role: 'user', content: makeContent('Tell a story', false), timestamp: nowIso(), status: 'complete' });
    const details = { model: 'm', backend: 'local', tokens: 8, temperature: 0.7, seed: 42, finishReason: 'length' as const, continued: 1 };
    await store.append(s.id, { role: 'assistant', content: makeContent('Once upon', false), timestamp: nowIso(), status: 'complete', details });
    await store.append(s.id, { role: 'user', content: makeContent('Again', false), timestamp: nowIso(), status: 'complete' });
    const error = { name: 'EngineError', message: 'The model stopped working.' };
    await store.append(s.id, { role: 'assistant', content: makeContent('Half', false), timestamp: nowIso(), status: 'error', error });
    const file = await store.exportSessions();
    await store.delete(s.id);
    await store.importPrepared(await prepareImport(asFile(file)));
    const back = await store.messages(s.id);
    expect(back[1]!.details).toEqual(details);
    expect(back[3]).toMatchObject({ status: 'error', error });
  });

  it('importing the same file twice does not duplicate', async () => {
    const { store } = await seeded();
    const file = asFile(await store.exportSessions());
    expect(await store.importPrepared(await prepareImport(file))).toMatchObject({ imported: 0, skipped: 1 });
    expect(await store.list()).toHaveLength(1);
  });

  it('a different session under an existing id is imported beside it', async () => {
    const { store, id } = await seeded();
    const file = await store.exportSessions([id]);
    file.sessions[0]!.history.pop();
    expect(await store.importPrepared(await prepareImport(asFile(file)))).toMatchObject({ imported: 1 });
    expect(await store.list()).toHaveLength(2);
  });
});

describe('broken, foreign or partial files change nothing and say what was wrong', () => {
  async function good(): Promise<ExportFile> {
    const { store } = await seeded();
    return store.exportSessions();
  }
  const cases: [string, () => Promise<Blob>, RegExp][] = [
    ['empty', async () => asFile(''), /empty/],
    ['not JSON', async () => asFile('{"format": "glimpse-export", '), /not JSON/],
    ['foreign JSON', async () => asFile({ messages: [] }), /not a Glimpse export/],
    ['newer version', async () => asFile({ ...(await good()), version: 99 }), /newer Glimpse/],
    ['wrong shape', async () => asFile({ ...(await good()), sessions: {} }), /"sessions" is not a list/],
    ['unknown role', async () => {
      const f = await good();
      (f.sessions[0]!.history[1] as { role: string }).role = 'wizard';
      return asFile(f);
    }, /session 1, message 2 has an unknown role "wizard" \(sessions\[0\]\.history\[1\]\.role\)/],
    ['missing image', async () => asFile({ ...(await good()), images: {} }), /image the history refers to is missing/],
    ['damaged image', async () => {
      const f = await good();
      const [h] = Object.keys(f.images);
      f.images[h!]!.data = btoa('not the same bytes');
      return asFile(f);
    }, /does not match its checksum/],
    ['unknown field in details, named by its path', async () => {
      const f = await good();
      f.sessions[0]!.history[1]!.details = { model: 'm', backend: 'local', secret: 'x' } as never;
      return asFile(f);
    }, /session 1, message 2 has a field this version does not know, "secret" \(sessions\[0\]\.history\[1\]\.details\.secret\)/],
    ['unknown field on a session', async () => {
      const f = await good();
      (f.sessions[0] as Record<string, unknown>).owner = 'someone';
      return asFile(f);
    }, /session 1 has a field this version does not know, "owner" \(sessions\[0\]\.owner\)/],
    ['a bad field names its path', async () => {
      const f = await good();
      (f.sessions[0]!.history[0]!.content[1] as { text: unknown }).text = 5;
      return asFile(f);
    }, /session 1, message 1 .*\(sessions\[0\]\.history\[0\]\.content\[1\]\.text\)/],
    ['details that are not details', async () => {
      const f = await good();
      f.sessions[0]!.history[1]!.details = { model: 'm' } as never;
      return asFile(f);
    }, /sessions\[0\]\.history\[1\]\.details\.backend/],
    ['bad timestamp', async () => {
      const f = await good();
      f.sessions[0]!.history[0]!.timestamp = 'yesterday';
      return asFile(f);
    }, /timestamp/],
  ];
  it.each(cases)('%s', async (_name, make, message) => {
    const store = await open();
    await store.create({ title: 'mine' });
    const before = JSON.stringify(await store.list());
    const err = await prepareImport(await make()).then(
      (p) => store.importPrepared(p),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidImportError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/Nothing was changed/);
    expect(JSON.stringify(await store.list())).toBe(before);
  });
});
