/**
 * Issue 15, item 6: request bodies were read whole before the queue, with no bound on how many at once
 * (16 parallel 20 MB uploads: +624 MB). Now a request takes its queue place before its body is read and the
 * form streams into bounded buffers, so a burst of uploads costs at most (GLIMPSE_API_QUEUE + 1) bodies.
 * The REST API runs in a child process with the echo backend; its peak RSS (VmHWM) is read from /proc.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage } from '../../fixtures/images';
import { spawnServer, type ChildServer } from '../../fixtures/servers/spawn';

const MB = 2 ** 20;
let api: ChildServer;
beforeAll(async () => {
  // Answers take a while (30 ms a word), so the burst finds the one slot busy and the queue full.
  api = await spawnServer('api', { GLIMPSE_API_QUEUE: '2', ECHO_TOKEN_DELAY_MS: '30' });
});
afterAll(() => api?.stop());

describe('a burst of large uploads', () => {
  it('16 parallel 20 MB uploads: those that do not fit are refused before their body is read; the peak stays bounded', async () => {
    const png = new Uint8Array(await (await makeImage('png', 64, 64, 3)).arrayBuffer());
    // A valid 64×64 PNG padded to 20 MB (trailing bytes after IEND): accepted, stored, answered.
    const big = new Blob([png, new Uint8Array(20 * MB - png.length)], { type: 'image/png' });
    // Warm up with a picture: the image decoder is imported on the first upload (the server starts without it),
    // and its ~140 MB of code is not what this test measures.
    const warmForm = new FormData();
    warmForm.append('message', 'warm up');
    warmForm.append('image', new Blob([png], { type: 'image/png' }), 'small.png');
    const warm = await fetch(`${api.url}/chat`, { method: 'POST', body: warmForm });
    expect(warm.status).toBe(200);
    const before = api.peakMb();
    const started = performance.now();
    const statuses = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
      const form = new FormData();
      form.append('message', `upload ${i}`);
      form.append('image', big, 'big.png');
      const res = await fetch(`${api.url}/chat`, { method: 'POST', body: form }).catch(() => null);
      await res?.arrayBuffer();
      return res?.status ?? 0;
    }));
    const grew = api.peakMb() - before;
    console.log(`16 parallel 20 MB uploads in ${((performance.now() - started) / 1000).toFixed(1)} s: statuses ` +
      `${JSON.stringify(statuses.sort())}; peak RSS ${before.toFixed(0)} → ${api.peakMb().toFixed(0)} MB (+${grew.toFixed(0)} MB)`);
    expect(statuses.every((s) => s === 200 || s === 503), JSON.stringify(statuses)).toBe(true);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(10);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
    // At most 3 bodies (1 running + 2 waiting) of 20 MB, each held in a few copies while it is checked.
    expect(grew).toBeLessThan(300);
    expect(api.alive()).toBe(true);
  });
});
