import { describe, expect, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, nowIso } from '../../../src/chat/messages';
import { SessionStore } from '../../../src/storage/sessions';

/** Real Chromium IndexedDB (the unit tests use fake-indexeddb): Blobs, persistence, cross-tab notices. */
async function photo(): Promise<Blob> {
  const canvas = new OffscreenCanvas(64, 48);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#2a9d8f';
  ctx.fillRect(0, 0, 64, 48);
  ctx.fillStyle = '#e9c46a';
  ctx.fillRect(10, 10, 20, 20);
  return canvas.convertToBlob({ type: 'image/png' });
}

describe('SessionStore on real IndexedDB', () => {
  it('keeps sessions and image Blobs when the database is closed and opened again', async () => {
    const name = `persist-${crypto.randomUUID()}`;
    const first = await SessionStore.open(name);
    const s = await first.create();
    const blob = await photo();
    const hash = await hashBlob(blob);
    await first.append(s.id, { role: 'user', content: makeContent('What is this?', true), timestamp: nowIso() }, { blob, hash, width: 64, height: 48 });
    first.close();

    const again = await SessionStore.open(name);
    const [summary] = await again.list();
    expect(summary).toMatchObject({ id: s.id, title: 'What is this?', message_count: 1, has_image: true });
    const img = await again.getImage(hash);
    expect(img?.blob).toBeInstanceOf(Blob);
    // The stored Blob is the same picture: it decodes to the same size and hashes the same.
    const bitmap = await createImageBitmap(img!.blob);
    expect([bitmap.width, bitmap.height]).toEqual([64, 48]);
    expect(await hashBlob(img!.blob)).toBe(hash);
    again.close();
  });

  it('another connection (another tab) hears about changes', async () => {
    const name = `tabs-${crypto.randomUUID()}`;
    const a = await SessionStore.open(name);
    const b = await SessionStore.open(name);
    const heard = new Promise<{ kind: string; remote: boolean }>((resolve) =>
      b.addEventListener('change', (e) => resolve((e as CustomEvent<{ kind: string; remote: boolean }>).detail), { once: true }),
    );
    const s = await a.create();
    expect(await heard).toMatchObject({ kind: 'created', remote: true });
    expect((await b.list()).map((x) => x.id)).toEqual([s.id]);
    a.close();
    b.close();
  });
});
