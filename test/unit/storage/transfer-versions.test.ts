/**
 * Export keeps everything (issue 23 #13): every version of a turn, the branches they lead to (with their
 * pictures), statuses, errors and details survive export → import into an empty store, and the imported
 * chat behaves as the original (another version can be shown). Older (version 1) files still import.
 * Real chats, made by the chat service on fake-indexeddb, as the other storage tests do.
 */
import 'fake-indexeddb/auto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { BackendRequest, BackendResult } from '../../../src/chat/backend';
import type { StoredMessage } from '../../../src/chat/messages';
import { textOf } from '../../../src/chat/messages';
import { ChatService } from '../../../src/chat/service';
import { versionIndex } from '../../../src/chat/versions';
import { EngineError, GenerationAbortedError, InvalidImportError } from '../../../src/errors';
import { SessionStore } from '../../../src/storage/sessions';
import { MAX_DEPTH, prepareImport, type ExportFile } from '../../../src/storage/transfer';
import type { Exact } from '../../../src/storage/transfer-schema';
import { EchoBackend } from '../../fixtures/echo-backend';
import { makeImage } from '../../fixtures/images';

const open = () => SessionStore.open(`transfer-versions-${Math.random()}`);
const asFile = (x: unknown) => new Blob([typeof x === 'string' ? x : JSON.stringify(x)], { type: 'application/json' });
const T = '2026-01-01T00:00:00.000Z';

/** The echo backend, whose next answer can be cut at the length limit, fail, or be stopped. */
class ScriptedBackend extends EchoBackend {
  next: 'length' | 'fail' | 'stop' | null = null;
  override async generate(req: BackendRequest): Promise<BackendResult> {
    const next = this.next;
    this.next = null;
    this.failAfterTokens = 2;
    this.failWith = next === 'fail' ? new EngineError('The model stopped working.') : next === 'stop' ? new GenerationAbortedError('Stopped.') : null;
    const result = await super.generate(req);
    return next === 'length' ? { ...result, details: { ...result.details, finishReason: 'length' } } : result;
  }
}

/**
 * A chat with everything an export must keep: a regenerated (sampled) answer, an edited first question
 * whose earlier branch holds a second picture, a cut-off answer, a failed one and a stopped one.
 */
async function richChat() {
  const store = await open();
  const backend = new ScriptedBackend();
  const chat = new ChatService({ store, backend: () => backend, persistEveryMs: 0 });
  const pictureA = await makeImage('jpeg', 16, 12, 1);
  const pictureB = await makeImage('png', 10, 10, 2);
  const { session_id: id } = await chat.chat({ message: 'What boat?', image: pictureA });
  await chat.regenerate(id);
  await chat.chat({ message: 'And this one?', session_id: id, image: pictureB });
  backend.next = 'length';
  await chat.chat({ message: 'Tell me all about it', session_id: id });
  backend.next = 'fail';
  await chat.chat({ message: 'Why?', session_id: id }).catch(() => undefined);
  const q1 = (await store.messages(id))[0]!;
  await chat.editMessage(id, q1.id, 'What ship?');
  backend.next = 'fail';
  await chat.chat({ message: 'Say more', session_id: id }).catch(() => undefined);
  backend.next = 'stop';
  await chat.chat({ message: 'Go on', session_id: id }).catch(() => undefined);
  return { store, chat, id };
}

/** A stored message without what a store gives it (its id, its session, its revision count). */
const content = ({ id: _i, sessionId: _s, rev: _r, ...rest }: StoredMessage) => rest;

async function images(store: SessionStore, messages: StoredMessage[]) {
  const hashes = [...new Set(messages.flatMap((m) => [m.imageHash, ...(m.branchImages ?? [])]).filter((h): h is string => !!h))].sort();
  return Promise.all(hashes.map(async (hash) => {
    const rec = await store.getImage(hash);
    return { hash, type: rec?.type, bytes: rec ? [...new Uint8Array(await rec.blob.arrayBuffer())] : null };
  }));
}

describe('export → import into an empty store is lossless', () => {
  it('every message, version, branch, status, error, detail and picture comes back; the chat works the same', async () => {
    const { store, chat, id } = await richChat();
    const before = await store.messages(id);
    // The chat has what it should (else the test would prove little).
    const [q1, a1, q2, a2] = before;
    const branch = q1!.versions![0]!.following!;
    expect(branch.map((t) => t.status)).toEqual(['complete', 'complete', 'complete', 'complete', 'complete', 'complete', 'error']);
    expect(branch[0]!.versions).toHaveLength(1); // the regenerated answer, in the branch
    expect(branch[0]!.details).toMatchObject({ temperature: expect.any(Number), seed: expect.any(Number) });
    expect(branch[1]!.imageHash).toBeDefined(); // the second picture, referred to only by the branch
    expect(branch[4]!.details?.finishReason).toBe('length');
    expect(branch[6]!.error).toEqual({ name: 'EngineError', message: 'The model stopped working.' });
    expect(q1!.branchImages).toEqual([branch[1]!.imageHash]);
    expect(a1!.status).toBe('complete');
    expect([q2!.role, a2!.status, a2!.error?.name, before[5]!.status]).toEqual(['user', 'error', 'EngineError', 'stopped']);

    const file = await store.exportSessions();
    expect(file.version).toBe(2);
    const empty = await open();
    expect(await empty.importPrepared(await prepareImport(asFile(JSON.stringify(file))))).toEqual({ imported: 1, skipped: 0, images: 2 });
    const after = await empty.messages(id);
    expect(after.map(content)).toEqual(before.map(content));
    expect(after.map((m) => m.id)).not.toEqual(before.map((m) => m.id)); // new ids: only the content is the same
    expect(await empty.require(id)).toEqual(await store.require(id));
    expect(await images(empty, after)).toEqual(await images(store, before));

    // The same file again: nothing new.
    expect(await empty.importPrepared(await prepareImport(asFile(file)))).toEqual({ imported: 0, skipped: 1, images: 0 });

    // Showing the first question's other version brings back its branch, with its picture, in both stores alike.
    const chat2 = new ChatService({ store: empty, backend: () => new EchoBackend(), persistEveryMs: 0 });
    const shown = await chat2.selectVersion(id, after[0]!.id, 0);
    await chat.selectVersion(id, before[0]!.id, 0);
    expect(shown.map(content)).toEqual((await store.messages(id)).map(content));
    expect(shown.map((m) => textOf(m))).toEqual(['What boat?', expect.any(String), 'And this one?', expect.any(String), 'Tell me all about it', expect.any(String), 'Why?', expect.any(String)]);
    expect(versionIndex(shown[1]!)).toBe(1);
    expect(shown[2]!.imageHash).toBe(branch[1]!.imageHash);
    expect((await empty.getImage(shown[2]!.imageHash!))?.blob.size).toBeGreaterThan(0);
    expect((await empty.require(id)).imageHash).toBe(shown[2]!.imageHash);

    // Now the chat here differs from the file's: importing it again adds it beside, keeping both.
    expect(await empty.importPrepared(await prepareImport(asFile(file)))).toMatchObject({ imported: 1, skipped: 0 });
  });
});

describe('a version 1 file (written by the export before versions were kept) still imports', () => {
  it('restores its chat, photo, statuses and details; exported again it is version 2 and the same chat', async () => {
    const raw = await readFile(new URL('../../fixtures/transfer/v1-export.json', import.meta.url), 'utf8');
    const v1 = JSON.parse(raw) as ExportFile;
    expect(v1.version).toBe(1);
    const store = await open();
    expect(await store.importPrepared(await prepareImport(asFile(raw)))).toEqual({ imported: 1, skipped: 0, images: 1 });
    const id = v1.sessions[0]!.session_id;
    const messages = await store.messages(id);
    expect(messages.map((m) => [m.role, textOf(m), m.status])).toEqual([
      ['user', 'What boat is this?', 'complete'],
      ['assistant', 'A small **ferry**.', 'complete'],
      ['user', 'Where is it going?', 'complete'],
      ['assistant', 'Across the', 'stopped'],
    ]);
    expect(messages[1]!.details).toEqual(v1.sessions[0]!.history[1]!.details);
    expect(messages.some((m) => 'versions' in m || 'branchImages' in m)).toBe(false);
    expect((await store.getImage(messages[0]!.imageHash!))?.type).toBe('image/jpeg');
    expect(await store.list()).toMatchObject([{ title: 'Harbour at dusk', message_count: 4, has_image: true }]);

    const again = await store.exportSessions();
    expect(again.version).toBe(2);
    expect(again.sessions[0]!.history.map((m) => m.timestamp)).toEqual(v1.sessions[0]!.history.map((m) => m.timestamp));
    expect(await store.importPrepared(await prepareImport(asFile(raw)))).toEqual({ imported: 0, skipped: 1, images: 0 });
    expect(await store.importPrepared(await prepareImport(asFile(again)))).toEqual({ imported: 0, skipped: 1, images: 0 });
  });
});

const turn = (text: string, extra: Record<string, unknown> = {}) => ({ role: 'user', content: [{ type: 'text', text }], timestamp: T, ...extra });
const fileOf = (history: unknown[], version = 2) => ({
  format: 'glimpse-export', version, sessions: [{ session_id: 's-1', title: 't', created_at: T, updated_at: T, image_in_context: null, history }], images: {},
});
/** A turn whose versions nest `depth` deep. */
function nested(depth: number) {
  let inner: Record<string, unknown> = turn('deepest');
  for (let i = 0; i < depth; i++) inner = turn(`level ${i}`, { versions: [{ content: [], timestamp: T, following: [inner] }], version: 1 });
  return inner;
}

async function refusal(file: unknown): Promise<string> {
  const err = await prepareImport(asFile(file)).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidImportError);
  return (err as Error).message;
}

describe('versions in a file are checked as strictly as the rest', () => {
  it('a problem deep in a branch is named by where it is', async () => {
    const bad = turn('q', { versions: [{ content: [], timestamp: T, following: [turn('a'), turn('b', { role: 'wizard' })] }], version: 1 });
    expect(await refusal(fileOf([bad]))).toMatch(
      /session 1, message 1, other version 1, following turn 2 has an unknown role "wizard" \(sessions\[0\]\.history\[0\]\.versions\[0\]\.following\[1\]\.role\)\. Nothing was changed\./,
    );
    const unknown = turn('q', { versions: [{ content: [], timestamp: T, mood: 'odd' }] });
    expect(await refusal(fileOf([unknown]))).toMatch(/message 1, other version 1 has a field this version does not know, "mood"/);
    expect(await refusal(fileOf([turn('q', { versions: [{ content: [], timestamp: T }], version: 2 })]))).toMatch(
      /session 1, message 1 has "version" 2, but its versions are numbered 0 to 1/,
    );
    expect(await refusal(fileOf([turn('q', { error: { name: 'E' } })]))).toMatch(/message 1 has an invalid "error"/);
  });

  it('a picture only a branch refers to must be in the file', async () => {
    const hash = 'a'.repeat(64);
    const history = [turn('q', { versions: [{ content: [], timestamp: T, following: [turn('p', { image: hash })] }], version: 1 })];
    expect(await refusal(fileOf(history))).toMatch(/an image the history refers to is missing \(aaaaaaaaaaaa…\)/);
  });

  it('a version 1 file carries no versions', async () => {
    expect(await refusal(fileOf([turn('q', { versions: [] })], 1))).toMatch(/message 1 has a field this version does not know, "versions"/);
  });

  it(`branches nested ${MAX_DEPTH} deep import; deeper is refused before validation recurses`, async () => {
    const ok = await prepareImport(asFile(fileOf([nested(MAX_DEPTH)])));
    let depth = 0;
    for (let t = ok.sessions[0]!.history[0]; t?.versions; t = t.versions[0]!.following![0]) depth++;
    expect(depth).toBe(MAX_DEPTH);
    expect(await refusal(fileOf([nested(MAX_DEPTH + 1)]))).toMatch(/versions nest more than 100 deep/);
    // Far deeper (written as text: JSON.stringify itself would run out of stack): a clear refusal, not a crash.
    const opening = `{"role":"user","content":[],"timestamp":"${T}","version":1,"versions":[{"content":[],"timestamp":"${T}","following":[`;
    const deep = JSON.stringify(fileOf([])).replace('"history":[]', `"history":[${opening.repeat(20_000)}${JSON.stringify(turn('x'))}${']}]}'.repeat(20_000)}]`);
    expect(await refusal(deep)).toMatch(/nest more than 100 deep/);
  });

  it('more than 100,000 versions, or messages counting those in branches, are refused', async () => {
    const many = Array.from({ length: 100_001 }, () => ({ content: [], timestamp: T }));
    expect(await refusal(fileOf([turn('q', { versions: many, version: 0 })]))).toMatch(/more than 100000 message versions/);
    const following = Array.from({ length: 60_000 }, () => turn('x'));
    const history = [turn('q', { versions: [{ content: [], timestamp: T, following }, { content: [], timestamp: T, following }] })];
    expect(await refusal(fileOf(history))).toMatch(/more than 100000 messages \(versions and branches included\)/);
  });
});

// The exactness check on the file's details (transfer-schema.ts) tells apart what mutual assignability
// does not: a missing optional field, or an optional field made required. (Checked by `tsc --noEmit`.)
type D = { model: string; seed?: number };
const exactSame: Exact<D, { model: string; seed?: number }> = true;
// @ts-expect-error an optional field missing on one side
const missingOptional: Exact<D, { model: string }> = true;
// @ts-expect-error an optional field required on one side
const madeRequired: Exact<D, { model: string; seed: number }> = true;
void [exactSame, missingOptional, madeRequired];
