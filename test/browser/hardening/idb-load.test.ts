/**
 * IndexedDB under load in real Chromium: 1,000 sessions and 20,000 messages, seeded in one transaction, then
 * the app's own reads and writes through the real store and the real UI. The figures are printed (see
 * SECURITY.md); the bounds are generous (10× or more above what was measured) so only a real regression
 * trips them: speed targets live in the benchmarks (npm run bench, group idb).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContent, nowIso, type StoredMessage } from '../../../src/chat/messages';
import { openDatabase } from '../../../src/storage/db';
import type { SessionRecord } from '../../../src/storage/schema';
import { $, $all, messageItems, mountApp, waitFor, type Mounted } from '../ui/helpers';

const SESSIONS = 1_000;
const PER_SESSION = 20;
const ANSWER = 'The harbour at dusk: boats on the shingle, a lighthouse on the right, copper light on the water. '.repeat(3);

let m: Mounted;
const figures: Record<string, number> = {};

async function time<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  figures[name] = Math.round((performance.now() - t0) * 10) / 10;
  return out;
}

beforeAll(async () => {
  m = await mountApp();
  const db = await openDatabase(m.storeName);
  const base = Date.UTC(2026, 0, 1);
  const iso = (ms: number) => new Date(ms).toISOString();
  await time('seed_ms', async () => {
    const tx = db.transaction(['sessions', 'messages'], 'readwrite');
    const puts: Promise<unknown>[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const id = `load-${String(i).padStart(4, '0')}`;
      const record: SessionRecord = {
        id, title: `Chat ${i} about the harbour`, customTitle: false, createdAt: iso(base + i * 60_000),
        updatedAt: iso(base + i * 60_000 + 30_000), messageCount: PER_SESSION, nextSeq: PER_SESSION, imageHash: null,
        preview: ANSWER.slice(0, 120),
      };
      puts.push(tx.objectStore('sessions').put(record));
      for (let seq = 0; seq < PER_SESSION; seq++) {
        const user = seq % 2 === 0;
        // One message in the oldest chat holds a word nothing else has (the search must reach it).
        const text = user ? (i === 0 && seq === 10 ? 'Where is the zeppelin?' : `Question ${seq / 2} about the light`) : ANSWER;
        const msg: StoredMessage = {
          id: `${id}-${seq}`, sessionId: id, seq, role: user ? 'user' : 'assistant', content: makeContent(text, false),
          timestamp: iso(base + i * 60_000 + seq * 1000), status: 'complete',
        };
        puts.push(tx.objectStore('messages').put(msg));
      }
    }
    await Promise.all([...puts, tx.done]);
  });
  db.close();
}, 120_000);

afterAll(async () => {
  console.info(`IndexedDB ${SESSIONS} sessions / ${SESSIONS * PER_SESSION} messages: ${JSON.stringify(figures)}`);
  await m.dispose();
});

describe('IndexedDB with 1,000 sessions and 20,000 messages', () => {
  it('the store lists, opens, appends and counts quickly', async () => {
    const list = await time('list_ms', () => m.store.list());
    expect(list).toHaveLength(SESSIONS);
    expect(list[0]!.id).toBe('load-0999'); // newest first
    const newest = list[0]!.id;
    const [transcript] = await time('open_ms', () => Promise.all([m.chat.transcript(newest), m.chat.context(newest), m.store.get(newest)]));
    expect(transcript).toHaveLength(PER_SESSION);
    await time('append_ms', () => m.store.append(newest, { role: 'user', content: makeContent('One more', false), timestamp: nowIso(), status: 'complete' }));
    expect((await m.store.messages(newest)).length).toBe(PER_SESSION + 1);
    const oldest = await time('open_oldest_ms', () => m.chat.transcript('load-0000'));
    expect(oldest).toHaveLength(PER_SESSION);
    for (const k of ['list_ms', 'open_ms', 'append_ms', 'open_oldest_ms']) expect(figures[k], k).toBeLessThan(2000);
  });

  it('the UI shows every chat, opens one, and finds a word in the oldest message', async () => {
    // Any write makes the sidebar reload from the store.
    await time('sidebar_ms', async () => {
      await m.store.create({ title: 'fresh' });
      await waitFor(() => $all(m.root, ['session-list'], 'session-item').length === SESSIONS + 1, 10_000, 'the sidebar');
    });
    await time('ui_open_ms', async () => {
      $all(m.root, ['session-list'], 'session-item')[1]!.shadowRoot!.querySelector<HTMLElement>('button.open')!.click();
      await waitFor(() => messageItems(m.root).length >= PER_SESSION, 10_000, 'the chat to open');
    });
    const input = $<HTMLInputElement>(m.root, 'session-list', 'input[type="search"]');
    await time('ui_search_ms', async () => {
      input.value = 'zeppelin';
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await waitFor(() => $all(m.root, ['session-list'], 'session-item').length === 1, 20_000, 'the search result');
    });
    expect($all(m.root, ['session-list'], 'session-item')[0]!.shadowRoot!.textContent).toContain('zeppelin');
    for (const k of ['sidebar_ms', 'ui_open_ms']) expect(figures[k], k).toBeLessThan(5000);
    expect(figures.ui_search_ms).toBeLessThan(15_000);
  });
});
