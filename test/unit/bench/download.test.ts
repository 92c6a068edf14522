import { describe, expect, it } from 'vitest';
import { downloadRows, runDownload } from '../../bench/download';
import { formatDownloadTable, formatTable } from '../../bench/table';

describe('npm run bench: the first-visit download per device path', () => {
  it('is computed from the hub sizes, in decimal MB', async () => {
    const rows = downloadRows();
    expect(rows.map((r) => [r.key, r.onnxMB, r.totalMB])).toEqual([
      ['webgpu_f16', 321.1, 324.7],
      ['webgpu_no_f16', 574.4, 578],
      ['wasm', 259.9, 263.4],
      ['official_fp32', 1028.5, 1032.1],
      ['q4f16_all', 188.8, 192.4],
    ]);
    const result = await runDownload({ quick: true, model: 'tiny', log: () => undefined });
    expect(result.figures).toEqual({
      download_mb_webgpu_f16: 324.7,
      download_mb_webgpu_no_f16: 578,
      download_mb_wasm: 263.4,
      download_mb_official_fp32: 1032.1,
      download_mb_q4f16_all: 192.4,
    });
  });

  it('prints a table of its own, and the figures table leaves them out', async () => {
    const table = formatDownloadTable(downloadRows());
    expect(table).toMatch(/^WebGPU \+ shader-f16 \(app\)\s+fp16\s+fp16\s+q4f16\s+321\.1\s+324\.7$/m);
    expect(table).toMatch(/^official demo, fp32 everywhere\s+fp32\s+fp32\s+fp32\s+1,028\.5\s+1,032\.1$/m);
    const { figures } = await runDownload({ quick: true, model: 'tiny', log: () => undefined });
    expect(formatTable(figures)).toBe('');
    expect(formatTable({ ...figures, main_js_gzip_kb: 41 })).not.toContain('download_mb');
  });
});
