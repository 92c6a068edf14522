import { describe, expect, it } from 'vitest';
import type { EngineNotice } from '../../../src/engine/api';
import { EngineClient } from '../../../src/engine/client';

describe('EngineClient.probe', () => {
  it('answers callers that ask at the same time with one probe; the choice says why (no separate notice)', async () => {
    // Node has no navigator.gpu: the probe falls back to WASM and says why in the choice (the status line shows it).
    const client = new EngineClient({ createWorker: () => { throw new Error('no worker in this test'); } });
    const notices: EngineNotice[] = [];
    client.addEventListener('notice', (e) => notices.push((e as CustomEvent<EngineNotice>).detail));
    const [a, b, c] = await Promise.all([client.probe(), client.probe(), client.probe()]);
    expect(a).toMatchObject({ device: 'wasm', fallback: true, cause: 'no-webgpu' });
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(await client.probe()).toBe(a);
    expect(client.device).toBe(a);
    expect(notices).toHaveLength(0);
  });

  it('another device preference restarts: the status goes back to idle and the next probe honours it', async () => {
    const client = new EngineClient({ createWorker: () => { throw new Error('no worker in this test'); } });
    const statuses: string[] = [];
    client.addEventListener('status', (e) => statuses.push((e as CustomEvent<{ state: string }>).detail.state));
    expect((await client.probe()).cause).toBe('no-webgpu');
    await client.configure({ device: 'wasm' });
    expect(client.device).toBeNull();
    expect(statuses).toEqual(['idle']);
    expect(await client.probe()).toMatchObject({ device: 'wasm', fallback: false, cause: 'chosen' });
    // The same preference again changes nothing.
    await client.configure({ device: 'wasm' });
    expect(statuses).toEqual(['idle']);
  });

  it('a probe under way when the preference changes is not kept', async () => {
    const client = new EngineClient({ createWorker: () => { throw new Error('no worker in this test'); } });
    const first = client.probe();
    await client.configure({ device: 'wasm' });
    expect((await first).cause).toBe('chosen');
    expect(client.device?.cause).toBe('chosen');
  });

  it('a memory budget set before any model loads is kept for the load (no worker is started for it)', async () => {
    const client = new EngineClient({ createWorker: () => { throw new Error('no worker in this test'); } });
    expect(await client.setKvBudget(64 * 2 ** 20)).toBeNull();
    await client.configure({ kvBudgetBytes: 128 * 2 ** 20 });
  });
});
