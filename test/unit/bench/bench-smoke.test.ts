import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../../fixtures/model/ensure';

const ROOT = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'glimpse-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NUMBERS = [
  'followup_ttft_ratio', 'followup_ttft_ms_cached', 'followup_ttft_ms_naive',
  'first_turn_ttft_ratio', 'first_turn_ttft_ms_high', 'first_turn_ttft_ms_auto', 'first_turn_peak_rss_mb_high',
  'decode_overhead', 'decode_ms_per_token_app', 'decode_ms_per_token_raw',
];

describe('npm run bench (quick, tiny model, Node groups only)', () => {
  it('writes JSON whose figures are plain numbers, and the cached follow-up matches the naive one', async () => {
    await ensureTinyModel();
    const out = join(dir, 'bench.json');
    // The CLI itself, as `npm run bench -- --quick --group followup,first-turn,decode --out FILE` runs it.
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'test/bench/run.ts', '--quick', '--group', 'followup,first-turn,decode', '--out', out],
      { cwd: ROOT, timeout: 220_000 }, // bounds a hang; the tiny model's real 49,280-token vocabulary makes this tens of seconds
    );
    const json = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    for (const key of NUMBERS) {
      expect(typeof json[key], key).toBe('number');
      expect(Number.isFinite(json[key]), key).toBe(true);
    }
    const byExchanges = json.followup_ttft_ratio_by_exchanges as Record<string, unknown>;
    expect(Object.keys(byExchanges).sort()).toEqual(['1', '5', '9']);
    for (const v of Object.values(byExchanges)) expect(typeof v).toBe('number');
    expect(json.followup_tokens_identical).toBe(true);
    expect(json.meta).toMatchObject({ model: 'tiny', quick: true });
  });
});
