/**
 * Image features on disk for the REST API, next to the pictures:
 *
 *   DATA_DIR/features/<sha256 of the picture>/<sha256 of the encoder key, 16 hex>.bin
 *
 * Each file: a 4-byte little-endian header length, the header as JSON ({key, rows, cols, dims}), then the
 * float32 data, little-endian. A file that does not parse exactly (truncated, altered) is ignored: features
 * are recomputable, and the engine rejects any that do not fit its encoder anyway.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_FEATURE_SETS, type ImageFeatures } from '../chat/features';
import { atomicWrite } from './disk';

const HEADER_MAX = 4096;

export function featuresDir(dataDir: string, hash: string): string {
  return join(dataDir, 'features', hash);
}

function fileFor(key: string): string {
  return `${createHash('sha256').update(key).digest('hex').slice(0, 16)}.bin`;
}

export function encodeFeatures(f: ImageFeatures): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ key: f.key, rows: f.rows, cols: f.cols, dims: f.dims }));
  const out = new Uint8Array(4 + header.length + f.data.byteLength);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  const data = new DataView(out.buffer, 4 + header.length);
  f.data.forEach((x, i) => data.setFloat32(i * 4, x, true));
  return out;
}

/** The features in `bytes`, or null when they are not exactly a header and its data. */
export function decodeFeatures(bytes: Uint8Array): ImageFeatures | null {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = view.getUint32(0, true);
    if (n > HEADER_MAX || 4 + n > bytes.length) return null;
    const h = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))) as Partial<ImageFeatures>;
    const dims = Array.isArray(h.dims) && h.dims.every((d) => Number.isInteger(d) && d > 0) ? h.dims : null;
    if (typeof h.key !== 'string' || typeof h.rows !== 'number' || typeof h.cols !== 'number' || !dims) return null;
    const count = dims.reduce((a, b) => a * b, 1);
    if (bytes.length - 4 - n !== count * 4) return null;
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 + n + i * 4, true);
    return { key: h.key, rows: h.rows, cols: h.cols, dims, data };
  } catch {
    return null;
  }
}

export async function readFeatures(dataDir: string, hash: string): Promise<ImageFeatures[]> {
  const dir = featuresDir(dataDir, hash);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: ImageFeatures[] = [];
  for (const name of names.filter((n) => n.endsWith('.bin')).slice(0, MAX_FEATURE_SETS)) {
    const f = decodeFeatures(new Uint8Array(await readFile(join(dir, name)).catch(() => Buffer.alloc(0))));
    if (f) out.push(f);
  }
  return out;
}

export async function writeFeatures(dataDir: string, hash: string, f: ImageFeatures): Promise<void> {
  const dir = featuresDir(dataDir, hash);
  await mkdir(dir, { recursive: true });
  const name = fileFor(f.key);
  const others = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.bin') && n !== name);
  // At most MAX_FEATURE_SETS per picture, the least recently written dropped first; room is made before the
  // write (removing needs no disk space).
  const dated = await Promise.all(others.map(async (n) => ({ n, t: (await stat(join(dir, n)).catch(() => null))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => a.t - b.t);
  for (const old of dated.slice(0, Math.max(0, dated.length - MAX_FEATURE_SETS + 1))) await rm(join(dir, old.n), { force: true });
  await atomicWrite(join(dir, name), encodeFeatures(f));
}

export async function removeFeatures(dataDir: string, hash: string): Promise<void> {
  await rm(featuresDir(dataDir, hash), { recursive: true, force: true });
}

/** Removes the features of pictures that are gone (a crash between deleting a picture and its features). */
export async function sweepFeatures(dataDir: string, keep: (hash: string) => boolean): Promise<void> {
  for (const hash of await readdir(join(dataDir, 'features')).catch(() => [] as string[])) {
    if (!keep(hash)) await removeFeatures(dataDir, hash);
  }
}
