/**
 * npm run bench -- [--out FILE] [--quick] [--group NAME[,NAME…]] [--model real|tiny]
 *
 * Glimpse against the naive way. Each group runs in its own Node process (clean peak-RSS figures, no state
 * shared between groups); the parent prints a table and writes JSON whose top-level figures are plain
 * numbers (medians of several runs) or booleans, with every run under `runs`.
 *   --quick   the tiny model, fewer runs (a smoke run, < 1 minute for the Node groups)
 *   --group   followup | chats | first-turn | decode | dtypes | api-dtypes | memory | vision | vision-wasm | bundle
 *             | idb | wasm | download (default: all)
 *   --model   real (default; generated once into .models/real) or tiny
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Figure, GroupOptions, GroupResult, ModelSize } from './common';
import type { DownloadRow } from './download';
import { formatDownloadTable, formatTable } from './table';

export const GROUPS = ['followup', 'chats', 'first-turn', 'decode', 'dtypes', 'api-dtypes', 'memory', 'vision', 'vision-wasm', 'bundle', 'idb', 'wasm', 'download'] as const;
export type Group = (typeof GROUPS)[number];

async function runGroup(group: Group, opts: GroupOptions): Promise<GroupResult> {
  switch (group) {
    case 'followup':
      return (await import('./followup')).runFollowup(opts);
    case 'first-turn':
      return (await import('./first-turn')).runFirstTurn(opts);
    case 'decode':
      return (await import('./decode')).runDecode(opts);
    case 'memory':
      return (await import('./memory')).runMemory(opts);
    case 'vision':
      return (await import('./vision')).runVision(opts);
    case 'vision-wasm':
      return (await import('./vision-wasm')).runVisionWasm(opts);
    case 'bundle':
      return (await import('./bundle')).runBundle(opts);
    case 'idb':
      return (await import('./idb')).runIdb(opts);
    case 'wasm':
      return (await import('./wasm')).runWasm(opts);
    case 'download':
      return (await import('./download')).runDownload(opts);
    case 'dtypes':
      return (await import('./dtypes')).runDtypes(opts);
    case 'api-dtypes':
      return (await import('./api-dtypes')).runApiDtypes(opts);
    case 'chats':
      return (await import('./chats')).runChats(opts);
  }
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function parseGroups(values: string[] | undefined): Group[] {
  if (!values || values.length === 0) return [...GROUPS];
  const names = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  for (const n of names) {
    if (!(GROUPS as readonly string[]).includes(n)) throw new Error(`Unknown group "${n}". Groups: ${GROUPS.join(', ')}.`);
  }
  return GROUPS.filter((g) => names.includes(g));
}

/** Runs one group in a child process (this file with --child) and reads its result back. */
function runChild(group: Group, model: ModelSize, quick: boolean): Promise<GroupResult> {
  const dir = mkdtempSync(join(tmpdir(), 'glimpse-bench-'));
  const out = join(dir, 'result.json');
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--child', group, '--child-out', out, '--model', model];
  if (quick) args.push('--quick');
  return new Promise<GroupResult>((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`group ${group} failed (exit ${code ?? signal})`);
        resolvePromise(JSON.parse(readFileSync(out, 'utf8')) as GroupResult);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      group: { type: 'string', multiple: true },
      model: { type: 'string' },
      child: { type: 'string' },
      'child-out': { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const model = (values.model ?? (quick ? 'tiny' : 'real')) as ModelSize;
  if (model !== 'tiny' && model !== 'real') throw new Error(`--model must be tiny or real, got ${String(values.model)}`);

  if (values.child) {
    const [group] = parseGroups([values.child]);
    const result = await runGroup(group!, { quick, model, log });
    writeFileSync(values['child-out']!, JSON.stringify(result));
    return;
  }

  const groups = parseGroups(values.group);
  const started = Date.now();
  // Other processes on the machine show up in every timing: keep the load next to the figures.
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const figures: Record<string, Figure> = {};
  const runs: Record<string, unknown> = {};
  const seconds: Record<string, number> = {};
  const failed: Record<string, string> = {};
  for (const g of groups) {
    const t0 = Date.now();
    log(`${g}…`);
    try {
      const r = await runChild(g, model, quick);
      Object.assign(figures, r.figures);
      Object.assign(runs, r.runs);
    } catch (err) {
      failed[g] = err instanceof Error ? err.message : String(err);
      log(`${g} FAILED: ${failed[g]}`);
    }
    seconds[g] = Math.round((Date.now() - t0) / 100) / 10;
  }

  const meta = {
    date: new Date(started).toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    model,
    quick,
    groups,
    seconds,
    totalSeconds: Math.round((Date.now() - started) / 1000),
    loadavg: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) },
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', memGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    ...(Object.keys(failed).length ? { failed } : {}),
  };
  const file = resolve(values.out ?? join('bench-results', `bench-${quick ? 'quick-' : ''}${meta.date.replace(/[:.]/g, '-')}.json`));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...figures, meta, runs }, null, 2) + '\n');

  const download = (runs.download as { rows?: DownloadRow[] } | undefined)?.rows;
  const tables = [formatTable(figures), download ? formatDownloadTable(download) : ''].filter(Boolean);
  process.stdout.write(tables.join('\n\n') + '\n');
  process.stdout.write(`\n${meta.machine.cpus} cores (${meta.machine.cpu}), model ${model}${quick ? ' (quick)' : ''}, ` +
    `${meta.totalSeconds} s, load average ${meta.loadavg.before[0]} → ${meta.loadavg.after[0]}. JSON: ${file}\n`);
  if (Object.keys(failed).length) {
    process.stdout.write(`Failed groups: ${Object.entries(failed).map(([g, m]) => `${g} (${m})`).join('; ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
