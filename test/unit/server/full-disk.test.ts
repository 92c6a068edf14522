/**
 * Issue 15, item 5: a full disk can be freed through the API. The REST API runs in a private mount namespace
 * with a 320 KiB tmpfs as its DATA_DIR, filled with chats until saving fails (507); then deleting a session,
 * and clearing one, must still work and make room. Skipped where user namespaces are not allowed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResponse, SessionsResponse } from '../../../src/chat/service';
import { makeImage } from '../../fixtures/images';
import { canUnshareMounts, spawnServer, type ChildServer } from '../../fixtures/servers/spawn';

const root = mkdtempSync(join(tmpdir(), 'glimpse-full-disk-'));
const supported = canUnshareMounts();
let api: ChildServer | undefined;

beforeAll(async () => {
  if (!supported) return;
  api = await spawnServer('api', { DATA_DIR: root }, { tmpfsKb: 320 });
});
afterAll(async () => {
  await api?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function chat(fields: Record<string, string | Blob>): Promise<{ status: number; body: ChatResponse & { error?: { code: string } } }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string') form.append(k, v);
    else form.append(k, v, 'photo.png');
  }
  const res = await fetch(`${api!.url}/chat`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as ChatResponse & { error?: { code: string } } };
}

/** Sends distinct photos, then text, until the disk refuses; returns the sessions that were saved. */
async function fillDisk(): Promise<string[]> {
  const saved: string[] = [];
  for (let i = 0; i < 40; i++) {
    const image = await makeImage('png', 96, 96, 100 + i); // ~27 KB of incompressible pixels each
    const r = await chat({ message: `photo ${i}`, image });
    if (r.status === 507) break;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    saved.push(r.body.session_id);
  }
  for (let i = 0; i < 400; i++) {
    const r = await chat({ message: `note ${i} ${'x'.repeat(2000)}` });
    if (r.status === 507) return saved;
    expect(r.status).toBe(200);
  }
  throw new Error('the disk never filled up');
}

describe.skipIf(!supported)('a full disk', () => {
  it('is freed by DELETE /chat/sessions/{id}; DELETE /chat/history/{id} works on it too; then chats are saved again', async () => {
    const sessions = await fillDisk();
    expect(sessions.length).toBeGreaterThan(3);
    expect((await chat({ message: 'one more' })).status).toBe(507);

    // Clearing rewrites the session file: it used to fail with 507 before freeing anything.
    const cleared = await fetch(`${api!.url}/chat/history/${sessions[0]}`, { method: 'DELETE' });
    expect(cleared.status, await cleared.clone().text()).toBe(200);
    expect(await cleared.json()).toMatchObject({ session_id: sessions[0], removed: 2 });

    const deleted = await fetch(`${api!.url}/chat/sessions/${sessions[1]}`, { method: 'DELETE' });
    expect(deleted.status, await deleted.clone().text()).toBe(200);
    expect(await deleted.json()).toMatchObject({ session_id: sessions[1], deleted: true });
    expect((await fetch(`${api!.url}/chat/history/${sessions[1]}`)).status).toBe(404);

    const list = (await (await fetch(`${api!.url}/chat/sessions?limit=1000`)).json()) as SessionsResponse;
    expect(list.sessions.map((s) => s.id)).not.toContain(sessions[1]);
    expect(list.sessions.find((s) => s.id === sessions[0])).toMatchObject({ message_count: 0, has_image: false });

    const after = await chat({ message: 'there is room again', image: await makeImage('png', 32, 32, 7) });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(api!.alive()).toBe(true);
  });
});
