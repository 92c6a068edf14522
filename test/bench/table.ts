/** The targets of issue 7 and the printed tables. */
import type { Figure } from './common';
import type { DownloadRow } from './download';

interface Target {
  text: string;
  met: (v: Figure, all: Record<string, Figure>) => boolean;
}

export const TARGETS: Record<string, Target> = {
  followup_ttft_ratio: { text: '≥ 20, identical tokens', met: (v, all) => typeof v === 'number' && v >= 20 && all.followup_tokens_identical === true },
  followup_tokens_identical: { text: 'true', met: (v) => v === true },
  window_ttft_ratio: { text: '≥ 10', met: (v) => typeof v === 'number' && v >= 10 },
  switch_ttft_ratio: { text: '≥ 20', met: (v) => typeof v === 'number' && v >= 20 },
  reopen_ttft_ratio: { text: '≥ 5', met: (v) => typeof v === 'number' && v >= 5 },
  chats_tokens_identical: { text: 'true', met: (v) => v === true },
  kv_5_chats_mb: { text: '≤ kv_budget_mb', met: (v, all) => typeof v === 'number' && typeof all.kv_budget_mb === 'number' && v <= all.kv_budget_mb },
  first_turn_ttft_ratio: { text: '≥ 8', met: (v) => typeof v === 'number' && v >= 8 },
  decode_overhead: { text: '≤ 1.03', met: (v) => typeof v === 'number' && v <= 1.03 },
  decode_overhead_best: { text: '≤ 1.03', met: (v) => typeof v === 'number' && v <= 1.03 },
  vision_peak_ratio_node: { text: '≤ 1.5', met: (v) => typeof v === 'number' && v <= 1.5 },
  vision_peak_ratio_wasm: { text: '≤ 1.5', met: (v) => typeof v === 'number' && v <= 1.5 },
  vision_time_ratio: { text: '≤ 1 (no slower; noise ±5%)', met: (v) => typeof v === 'number' && v <= 1.05 },
  decode_cpu_overhead: { text: '≤ 1.03', met: (v) => typeof v === 'number' && v <= 1.03 },
  main_js_gzip_kb: { text: '≤ 60', met: (v) => typeof v === 'number' && v <= 60 },
  idb_list_1000_ms: { text: '≤ 50', met: (v) => typeof v === 'number' && v <= 50 },
  idb_open_200_ms: { text: '≤ 30', met: (v) => typeof v === 'number' && v <= 30 },
};

function show(v: Figure): string {
  if (v === null) return '–';
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}: ${x}`).join(', ');
  return String(v);
}

function plain(head: string[], rows: string[][], right: number[] = []): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A plain-text table: figure, value, target, met ('' if none). Figures shown in a table of their own are left out. */
export function formatTable(figures: Record<string, Figure>): string {
  const rows = Object.entries(figures)
    .filter(([k]) => !k.startsWith('download_mb_'))
    .map(([k, v]) => {
      const t = TARGETS[k];
      return [k, show(v), t?.text ?? '', t ? (t.met(v, figures) ? 'yes' : 'NO') : ''];
    });
  return rows.length ? plain(['figure', 'median', 'target', 'met'], rows) : '';
}

/** First-visit download per device path: the dtype of each file, the ONNX files alone, and everything. */
export function formatDownloadTable(rows: DownloadRow[]): string {
  const n = (x: number) => x.toLocaleString('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return `First-visit download per device path (SmolVLM-256M-Instruct, MB = 10^6 bytes; total = ONNX + configs and tokenizer)\n` +
    plain(
      ['path', 'vision', 'embed', 'decoder', 'ONNX MB', 'total MB'],
      rows.map((r) => [r.path, r.dtypes.vision_encoder, r.dtypes.embed_tokens, r.dtypes.decoder_model_merged, n(r.onnxMB), n(r.totalMB)]),
      [4, 5],
    );
}
