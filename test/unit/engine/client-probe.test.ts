import { describe, expect, it } from 'vitest';
import type { EngineNotice } from '../../../src/engine/api';
import { EngineClient } from '../../../src/engine/client';

describe('EngineClient.probe', () => {
  it('answers callers that ask at the same time with one probe (one fallback notice)', async () => {
    // Node has no navigator.gpu: the probe falls back to WASM and says so.
    const client = new EngineClient({ createWorker: () => { throw new Error('no worker in this test'); } });
    const notices: EngineNotice[] = [];
    client.addEventListener('notice', (e) => notices.push((e as CustomEvent<EngineNotice>).detail));
    const [a, b, c] = await Promise.all([client.probe(), client.probe(), client.probe()]);
    expect(a).toMatchObject({ device: 'wasm', fallback: true });
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(await client.probe()).toBe(a);
    expect(client.device).toBe(a);
    expect(notices).toHaveLength(1);
  });
});
