/**
 * Image features kept with their pictures: the service hands a backend the stored features of the image in
 * context and keeps what the backend computed; they go when the picture goes; a store that cannot keep them
 * (quota, full disk) costs no message and the user is told once. Every store: IndexedDB, files, PostgreSQL.
 */
import 'fake-indexeddb/auto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendRequest, BackendResult } from '../../../src/chat/backend';
import type { ImageFeatures, ImageFeatureStore } from '../../../src/chat/features';
import { ChatService } from '../../../src/chat/service';
import { decodeFeatures, encodeFeatures } from '../../../src/server/features';
import { PgSessionStore } from '../../../src/server/pg/store';
import { FileSessionStore } from '../../../src/server/store';
import type { SessionRepository } from '../../../src/chat/repository';
import { SessionStore } from '../../../src/storage/sessions';
import { EchoBackend } from '../../fixtures/echo-backend';
import { makeImage } from '../../fixtures/images';
import { createDatabase } from '../../fixtures/postgres';

const features = (key: string, fill = 0.5): ImageFeatures => ({ key, rows: 0, cols: 0, dims: [1, 4, 3], data: new Float32Array(12).fill(fill) });

/** The echo backend, computing features for an image unless it was given usable ones. */
class VisionBackend extends EchoBackend {
  override async generate(req: BackendRequest): Promise<BackendResult> {
    const out = await super.generate(req);
    const given = req.features?.some((f) => f.key === 'enc|auto');
    return req.image && !given ? { ...out, features: features('enc|auto') } : out;
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let pgUrl: Promise<string> | undefined;
let pgSchemas = 0;

const stores: [string, () => Promise<SessionRepository & ImageFeatureStore & { close?(): unknown }>][] = [
  ['IndexedDB', () => SessionStore.open(`features-${Math.random()}`)],
  ['files (REST API)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glimpse-features-'));
    dirs.push(dir);
    return FileSessionStore.open(dir);
  }],
  ['PostgreSQL (REST API)', async () => {
    pgUrl ??= createDatabase('features');
    return PgSessionStore.open({ connectionString: await pgUrl, schema: `f${pgSchemas++}`, poolSize: 2 });
  }],
];

describe.each(stores)('image features in the %s store', (_name, open) => {
  it('are kept after the vision encoder ran, handed back next turn, and deleted with the picture', async () => {
    const store = await open();
    const backend = new VisionBackend();
    const service = new ChatService({ store, backend: () => backend, features: store, persistEveryMs: 0 });
    const photo = await makeImage('png', 40, 30, 2);
    const first = await service.chat({ message: 'What is this?', image: photo });
    const hash = backend.requests[0]!.image!.hash;
    expect(backend.requests[0]!.features).toBeUndefined();
    expect((await store.featuresOf(hash)).map((f) => f.key)).toEqual(['enc|auto']);

    await service.chat({ message: 'And now?', session_id: first.session_id });
    const kept = backend.requests[1]!.features!;
    expect(kept.map((f) => [f.key, f.dims, Array.from(f.data.slice(0, 2))])).toEqual([['enc|auto', [1, 4, 3], [0.5, 0.5]]]);

    await service.clear(first.session_id);
    expect(await store.featuresOf(hash)).toEqual([]);
    await store.close?.();
  });

  it('at most four sets per picture, one per encoder key, the least recently kept dropped', async () => {
    const store = await open();
    const service = new ChatService({ store, backend: () => new EchoBackend(), features: store, persistEveryMs: 0 });
    await service.chat({ message: 'x', image: await makeImage('png', 40, 30, 3) });
    const hash = (await store.messages((await store.list())[0]!.id))[0]!.imageHash!;
    for (const k of ['a', 'b', 'a', 'c', 'd', 'e']) await store.keepFeatures(hash, features(k, k.charCodeAt(0)));
    // 'b' is the least recently kept ('a' was kept again after it).
    expect((await store.featuresOf(hash)).map((f) => f.key).sort()).toEqual(['a', 'c', 'd', 'e']);
    await store.keepFeatures('f'.repeat(64), features('gone')); // a picture that is not stored: nothing kept
    expect(await store.featuresOf('f'.repeat(64))).toEqual([]);
    await store.close?.();
  });

  it('a store that cannot keep them costs no message, and the user is told once', async () => {
    const store = await open();
    const warnings: string[] = [];
    const failing: ImageFeatureStore = {
      featuresOf: (h) => store.featuresOf(h),
      keepFeatures: () => Promise.reject(new Error('QuotaExceededError')),
    };
    const service = new ChatService({
      store, backend: () => new VisionBackend(), features: failing, persistEveryMs: 0, onWarning: (m) => warnings.push(m),
    });
    const a = await service.chat({ message: 'one', image: await makeImage('png', 40, 30, 4) });
    await service.chat({ message: 'two', image: await makeImage('png', 40, 30, 5) });
    expect(a.response).toMatch(/^saw/);
    expect(await store.messages(a.session_id)).toHaveLength(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/not saved.*messages are saved/);
    await store.close?.();
  });
});

describe('the features file format', () => {
  it('round-trips, and anything truncated or altered reads as nothing', () => {
    const f = { key: 'm|fp32|high', rows: 3, cols: 4, dims: [13, 2, 2], data: Float32Array.from({ length: 52 }, (_, i) => i / 7) };
    const bytes = encodeFeatures(f);
    expect(decodeFeatures(bytes)).toEqual(f);
    expect(decodeFeatures(bytes.slice(0, bytes.length - 4))).toBeNull();
    expect(decodeFeatures(new Uint8Array([255, 255, 255, 255, 1, 2]))).toBeNull();
    const altered = bytes.slice();
    altered.set(new TextEncoder().encode('{"key":1'), 4);
    expect(decodeFeatures(altered)).toBeNull();
  });

  it('a corrupt file on disk is ignored, and features of pictures that are gone are swept at open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glimpse-features-'));
    dirs.push(dir);
    let store = await FileSessionStore.open(dir);
    const service = new ChatService({ store, backend: () => new VisionBackend(), features: store, persistEveryMs: 0 });
    await service.chat({ message: 'x', image: await makeImage('png', 40, 30, 6) });
    const hash = (await store.messages((await store.list())[0]!.id))[0]!.imageHash!;
    const [file] = readdirSync(join(dir, 'features', hash));
    writeFileSync(join(dir, 'features', hash, file!), 'not features');
    expect(await store.featuresOf(hash)).toEqual([]);
    await store.close();
    writeFileSync(join(dir, 'features', `${'a'.repeat(64)}`), ''); // a leftover with no picture
    store = await FileSessionStore.open(dir);
    expect(readdirSync(join(dir, 'features'))).toEqual([hash]);
    await store.close();
  });
});
