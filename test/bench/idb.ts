/**
 * idb_list_1000_ms and idb_open_200_ms in real Chromium IndexedDB: 1,000 sessions, one of them 200 messages
 * long with an image. Each run reloads the page (a fresh renderer, as when the app starts), then lists every
 * session and opens the long chat through the app's SessionStore and ChatService.
 */
import { openBenchPage } from './browser';
import { median, repeat, round, type GroupOptions, type GroupResult } from './common';
import type { IdbMeasurement } from './pages/api';

export async function runIdb(opts: GroupOptions): Promise<GroupResult> {
  const b = await openBenchPage('/test/bench/pages/idb.html', { webgpu: false, log: opts.log });
  try {
    const db = `glimpse-bench-${Date.now()}`;
    const seeded = await b.page.evaluate((o) => window.glimpseBench.idbSeed!(o), { db, sessions: 1000, messages: 200 });
    opts.log(`idb: seeded 1000 sessions + a 200-message chat in ${Math.round(seeded.seedMs)} ms`);
    const repeats = opts.quick ? 2 : 7;
    const runs: IdbMeasurement[] = await repeat(repeats, async () => {
      await b.page.reload();
      await b.page.waitForFunction(() => 'glimpseBench' in window);
      return b.page.evaluate((o) => window.glimpseBench.idbMeasure!(o), { db, sessionId: seeded.sessionId });
    });
    const bad = runs.find((r) => r.listed !== 1000 || r.opened !== 200);
    if (bad) throw new Error(`idb: expected 1000 sessions and 200 messages, got ${bad.listed} and ${bad.opened}`);
    opts.log(`idb: list ${runs.map((r) => r.listMs.toFixed(1)).join(', ')} ms; open ${runs.map((r) => r.openMs.toFixed(1)).join(', ')} ms`);
    return {
      figures: {
        idb_list_1000_ms: round(median(runs.map((r) => r.listMs)), 1),
        idb_open_200_ms: round(median(runs.map((r) => r.openMs)), 1),
      },
      runs: { idb: runs, seedMs: seeded.seedMs },
    };
  } finally {
    await b.close();
  }
}
