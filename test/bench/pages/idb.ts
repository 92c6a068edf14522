/**
 * IndexedDB bench page: seeds a database with N sessions (one of them a long chat with an image), then
 * times, after a page reload, what the app does on start: list every session, open one chat.
 */
import { ChatService } from '../../../src/chat/service';
import { makeContent, type StoredMessage } from '../../../src/chat/messages';
import { openDatabase } from '../../../src/storage/db';
import type { SessionRecord } from '../../../src/storage/schema';
import { SessionStore } from '../../../src/storage/sessions';
import type { IdbMeasurement, IdbSeedOptions } from './api';

const ANSWER =
  'Here is what I see: a **harbour at dusk**, boats pulled up on the shingle and a lighthouse on the right. ' +
  'The light is low and warm, which gives the water a copper tint.\n\n- The foreground is sharp\n- The sky is ' +
  'slightly overexposed\n- A figure walks a dog near the waterline\n\nIf you want a poster, crop to the ' +
  'lighthouse and keep the horizon on the lower third. ';

async function pngBlob(size: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d')!;
  for (let i = 0; i < 64; i++) {
    ctx.fillStyle = `hsl(${(i * 37) % 360} 70% 50%)`;
    ctx.fillRect((i * 97) % size, (i * 53) % size, size / 6, size / 7);
  }
  return canvas.convertToBlob({ type: 'image/png' });
}

async function seed(opts: IdbSeedOptions): Promise<{ seedMs: number; sessionId: string }> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const req = indexedDB.deleteDatabase(opts.db);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
  });
  const db = await openDatabase(opts.db);
  const blob = await pngBlob(1024);
  const hash = 'bench-image-' + blob.size;
  const base = Date.UTC(2026, 0, 1);
  const iso = (ms: number) => new Date(ms).toISOString();
  const long = crypto.randomUUID();
  const tx = db.transaction(['sessions', 'messages', 'images'], 'readwrite');
  const puts: Promise<unknown>[] = [];
  for (let i = 0; i < opts.sessions; i++) {
    const id = i === opts.sessions - 1 ? long : crypto.randomUUID();
    const count = id === long ? opts.messages : 2;
    const record: SessionRecord = {
      id,
      title: `Chat ${i}: a harbour at dusk and what to do with it`,
      customTitle: false,
      createdAt: iso(base + i * 60_000),
      updatedAt: iso(base + i * 60_000 + 30_000),
      messageCount: count,
      nextSeq: count,
      imageHash: id === long ? hash : null,
      preview: ANSWER.slice(0, 120),
    };
    puts.push(tx.objectStore('sessions').put(record));
    for (let seq = 0; seq < count; seq++) {
      const user = seq % 2 === 0;
      const withImage = id === long && seq === 0;
      const m: StoredMessage = {
        id: crypto.randomUUID(),
        sessionId: id,
        seq,
        role: user ? 'user' : 'assistant',
        content: makeContent(user ? `Question ${seq / 2}: what about the light on the water here?` : ANSWER.repeat(2), withImage),
        timestamp: iso(base + i * 60_000 + seq * 1000),
        status: 'complete',
        ...(withImage ? { imageHash: hash } : {}),
        ...(user ? {} : { details: { model: 'HuggingFaceTB/SmolVLM-256M-Instruct', backend: 'local', tokens: 96, tokensPerSecond: 20 } }),
      };
      puts.push(tx.objectStore('messages').put(m));
    }
  }
  puts.push(tx.objectStore('images').put({ hash, blob, type: blob.type, size: blob.size, width: 1024, height: 1024, createdAt: iso(base) }));
  await Promise.all([...puts, tx.done]);
  db.close();
  return { seedMs: performance.now() - t0, sessionId: long };
}

async function measure({ db, sessionId }: { db: string; sessionId: string }): Promise<IdbMeasurement> {
  const store = await SessionStore.open(db);
  const chat = new ChatService({
    store,
    backend: () => {
      throw new Error('no backend in the IndexedDB bench');
    },
  });
  try {
    let t = performance.now();
    const sessions = await store.list();
    const listMs = performance.now() - t;
    t = performance.now();
    // What the conversation controller awaits to show a chat (src/ui/controllers/conversation.ts).
    const [messages] = await Promise.all([chat.transcript(sessionId), chat.context(sessionId), store.get(sessionId)]);
    const openMs = performance.now() - t;
    return { listMs, listed: sessions.length, openMs, opened: messages.length };
  } finally {
    store.close();
  }
}

window.glimpseBench = { idbSeed: seed, idbMeasure: measure };
