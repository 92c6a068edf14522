/** The targets of issue 7 and the printed table. */
import type { Figure } from './common';

interface Target {
  text: string;
  met: (v: Figure, all: Record<string, Figure>) => boolean;
}

export const TARGETS: Record<string, Target> = {
  followup_ttft_ratio: { text: '≥ 20, identical tokens', met: (v, all) => typeof v === 'number' && v >= 20 && all.followup_tokens_identical === true },
  followup_tokens_identical: { text: 'true', met: (v) => v === true },
  first_turn_ttft_ratio: { text: '≥ 8', met: (v) => typeof v === 'number' && v >= 8 },
  decode_overhead: { text: '≤ 1.03', met: (v) => typeof v === 'number' && v <= 1.03 },
  decode_overhead_best: { text: '≤ 1.03', met: (v) => typeof v === 'number' && v <= 1.03 },
  main_js_gzip_kb: { text: '≤ 60', met: (v) => typeof v === 'number' && v <= 60 },
  idb_list_1000_ms: { text: '≤ 50', met: (v) => typeof v === 'number' && v <= 50 },
  idb_open_200_ms: { text: '≤ 30', met: (v) => typeof v === 'number' && v <= 30 },
};

function show(v: Figure): string {
  if (v === null) return '–';
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}: ${x}`).join(', ');
  return String(v);
}

/** A plain-text table: figure, value, target, met. */
export function formatTable(figures: Record<string, Figure>): string {
  const rows = Object.entries(figures).map(([k, v]) => {
    const t = TARGETS[k];
    return [k, show(v), t?.text ?? '', t ? (t.met(v, figures) ? 'yes' : 'NO') : ''];
  });
  const head = ['figure', 'median', 'target', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
