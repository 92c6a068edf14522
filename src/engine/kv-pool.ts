import { Tensor } from '@huggingface/transformers';
import { disposeCache, sliceCache, type KvCache } from './kv-cache';
import type { CacheState } from './prompt';

/** One chat's cache: what its KV tensors hold, and the tensors. */
export type PooledCache = CacheState & { past: KvCache };

/** Bytes a cache's tensors take (on the CPU or the GPU alike). */
export function cacheBytes(past: KvCache): number {
  let bytes = 0;
  for (const t of Object.values(past)) {
    if (!(t instanceof Tensor)) continue;
    const n = t.dims.reduce((a, b) => a * b, 1);
    bytes += n * (t.type === 'float16' ? 2 : t.type === 'float32' ? 4 : 8);
  }
  return bytes;
}

/**
 * The KV caches of recent chats, least recently used evicted first, within a memory budget. An entry is
 * taken out while its chat generates (generate() mutates it in place) and put back after. Evicted caches
 * are disposed: transformers.js frees GPU buffers only when asked.
 */
export class KvPool {
  private readonly entries = new Map<string, { cache: PooledCache; bytes: number }>();

  constructor(private budgetBytes: number) {}

  get budget(): number {
    return this.budgetBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.bytes;
    return n;
  }

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  peek(id: string): PooledCache | null {
    return this.entries.get(id)?.cache ?? null;
  }

  /** Removes a chat's cache from the pool and hands it over (the caller owns it now). */
  take(id: string): PooledCache | null {
    const e = this.entries.get(id);
    if (!e) return null;
    this.entries.delete(id);
    return e.cache;
  }

  /** Keeps a chat's cache as the most recently used, evicting others (or this one) to fit the budget. */
  async put(id: string, cache: PooledCache): Promise<void> {
    await this.drop(id);
    this.entries.set(id, { cache, bytes: cacheBytes(cache.past) });
    await this.fit();
  }

  async setBudget(bytes: number): Promise<void> {
    this.budgetBytes = Math.max(0, bytes);
    await this.fit();
  }

  async drop(id: string): Promise<void> {
    const e = this.entries.get(id);
    this.entries.delete(id);
    await disposeCache(e?.cache.past);
  }

  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) await disposeCache(e.cache.past);
  }

  /** Evicts least recently used caches until the pool fits its budget (Map order is insertion order). */
  private async fit(): Promise<void> {
    for (const [id, e] of this.entries) {
      if (this.bytes <= this.budgetBytes) return;
      this.entries.delete(id);
      await disposeCache(e.cache.past);
    }
  }
}

/**
 * A chat's cache (taken out of the pool: generate mutates it in place, so it is never kept through a
 * failure), cut to `keep` positions. A failure here (a copy that cannot be made, a GPU read that fails)
 * drops the cache and the turn starts fresh: a broken cache must never outlive the turn that found it.
 */
export async function cutPooledCache(cache: PooledCache | null, keep: number): Promise<KvCache | null> {
  if (!cache) return null;
  if (keep <= 0) {
    await disposeCache(cache.past);
    return null;
  }
  if (keep === cache.pastLength) return cache.past;
  try {
    return await sliceCache(cache.past, keep);
  } catch (err) {
    console.warn('Glimpse: the KV cache could not be cut; recomputing this turn from the start.', err);
    await disposeCache(cache.past);
    return null;
  }
}
