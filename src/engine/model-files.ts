import { ModelFilesMissingError } from '../errors';
import { chooseDtypes, expectedOnnxFiles } from './device';
import { MODEL_JSON_FILES } from './downloads';
import type { DeviceChoice, ModelSource } from './protocol';

/**
 * Model files on this device. transformers.js keeps every downloaded file in the Cache API store
 * `transformers-cache`, keyed by its download URL (`{host}{owner}/{name}/resolve/{rev}/{file}`). This module
 * reads that store for the model manager (sizes, delete) and writes into it to load a model from a local
 * folder: files put under the URLs the engine would download lead it to load them with no network at all.
 */

export const CACHE_NAME = 'transformers-cache';
const HUB = 'https://huggingface.co/';
const RESOLVE = /^(.*?\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/;

export interface CachedModel {
  model: string;
  files: { file: string; bytes: number }[];
  bytes: number;
}

export interface StorageInfo {
  usage: number;
  quota: number;
  persisted: boolean;
}

function hostOf(source: ModelSource): string {
  return source.kind === 'hub' ? (source.remoteHost ?? HUB) : '';
}

async function sizeOf(cache: Cache, req: Request): Promise<number> {
  const res = await cache.match(req);
  const header = Number(res?.headers.get('content-length'));
  if (Number.isFinite(header) && header > 0) return header;
  return res ? (await res.blob()).size : 0;
}

/** Models with files in the cache, largest first. */
export async function listCachedModels(): Promise<CachedModel[]> {
  if (typeof caches === 'undefined') return [];
  const cache = await caches.open(CACHE_NAME);
  const models = new Map<string, CachedModel>();
  for (const req of await cache.keys()) {
    const m = RESOLVE.exec(new URL(req.url).pathname.replace(/^\//, '/'));
    if (!m) continue;
    const model = m[2]!;
    const entry = models.get(model) ?? { model, files: [], bytes: 0 };
    const bytes = await sizeOf(cache, req);
    entry.files.push({ file: m[4]!, bytes });
    entry.bytes += bytes;
    models.set(model, entry);
  }
  return [...models.values()].sort((a, b) => b.bytes - a.bytes);
}

/** Deletes every cached file of a model; returns the bytes freed. */
export async function deleteCachedModel(model: string): Promise<number> {
  if (typeof caches === 'undefined') return 0;
  const cache = await caches.open(CACHE_NAME);
  let freed = 0;
  for (const req of await cache.keys()) {
    const m = RESOLVE.exec(new URL(req.url).pathname);
    if (m?.[2] !== model) continue;
    freed += await sizeOf(cache, req);
    await cache.delete(req);
  }
  return freed;
}

export async function storageInfo(): Promise<StorageInfo> {
  const est = (await navigator.storage?.estimate?.()) ?? {};
  return {
    usage: est.usage ?? 0,
    quota: est.quota ?? 0,
    persisted: (await navigator.storage?.persisted?.()) ?? false,
  };
}

/** Asks the browser not to evict Glimpse's data under storage pressure. */
export async function requestPersistence(): Promise<boolean> {
  return (await navigator.storage?.persist?.()) ?? false;
}

/** The URL transformers.js downloads a model file from (and caches it under); null for a local-folder source. */
export function modelFileUrl(source: ModelSource, model: string, file: string): string | null {
  if (source.kind !== 'hub') return null;
  const path = (source.remotePathTemplate ?? '{model}/resolve/{revision}/').replace('{model}', model).replace('{revision}', 'main');
  return `${hostOf(source)}${path}${file}`;
}

/**
 * Whether every file this device needs of a model is already in the cache, so loading it downloads nothing
 * (a return visit, or a model loaded from a folder). False when the cache cannot be read.
 */
export async function isModelCached(model: string, source: ModelSource, choice: Pick<DeviceChoice, 'device' | 'shaderF16'>): Promise<boolean> {
  if (typeof caches === 'undefined') return false;
  const urls = requiredFiles(choice).map((file) => modelFileUrl(source, model, file));
  if (urls.some((u) => u === null)) return false;
  try {
    const cache = await caches.open(CACHE_NAME);
    for (const url of urls) if (!(await cache.match(url!))) return false;
    return true;
  } catch {
    return false;
  }
}

/** The files a device needs from a model folder (configs, tokenizer, and the ONNX files for its dtypes). */
export function requiredFiles(choice: Pick<DeviceChoice, 'device' | 'shaderF16'>): string[] {
  return [
    ...MODEL_JSON_FILES,
    ...expectedOnnxFiles(chooseDtypes(choice)),
  ];
}

/**
 * Loads a model folder the user picked (the hub's file layout: config.json, onnx/...) into the cache under
 * the URLs the engine would download, and returns the model id to load (`local/<folder name>`).
 * Throws ModelFilesMissingError naming the files the folder lacks for this device.
 */
export async function importModelFolder(
  files: File[],
  source: ModelSource,
  choice: Pick<DeviceChoice, 'device' | 'shaderF16'>,
): Promise<{ model: string; bytes: number }> {
  const rel = (f: File) => {
    const path = (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
    return path.split('/').slice(1).join('/') || f.name;
  };
  const folder = ((files[0] as (File & { webkitRelativePath?: string }) | undefined)?.webkitRelativePath ?? '').split('/')[0] || 'model';
  const model = `local/${folder.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 90) || 'model'}`;
  const byPath = new Map(files.map((f) => [rel(f), f]));
  const missing = requiredFiles(choice).filter((f) => !byPath.has(f));
  if (missing.length) {
    throw new ModelFilesMissingError(
      `This folder is missing ${missing.length === 1 ? 'a file' : `${missing.length} files`} the model needs on this device: ${missing.join(', ')}.`,
      { missing },
    );
  }
  const cache = await caches.open(CACHE_NAME);
  const base = `${hostOf(source)}${model}/resolve/main/`;
  let bytes = 0;
  for (const [path, file] of byPath) {
    if (!/\.(json|onnx|onnx_data|txt|jinja)$/.test(path)) continue;
    await cache.put(
      new Request(new URL(path, base).href),
      new Response(file, { headers: { 'content-length': String(file.size), 'content-type': 'application/octet-stream' } }),
    );
    bytes += file.size;
  }
  return { model, bytes };
}
