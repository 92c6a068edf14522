/**
 * transformers.js's `env` is global: a model source is written into it once per change of source, not on
 * every load (sourceApplier compares with what `env` holds).
 */
import { env } from '@huggingface/transformers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sourceApplier, type SourceEnv } from '../../../src/engine/apply-source';
import { VlmEngine } from '../../../src/engine/engine';
import type { ModelSource } from '../../../src/engine/protocol';
import { ensureTinyModel, MODEL_ID } from '../../fixtures/model/ensure';

const FIELDS = ['allowLocalModels', 'allowRemoteModels', 'localModelPath', 'remoteHost', 'remotePathTemplate'] as const;

/** Counts every write to the source fields of `target` (keeping the values). Returns the log and an undo. */
function recordWrites(target: SourceEnv) {
  const writes: string[] = [];
  const saved = FIELDS.map((k) => [k, Object.getOwnPropertyDescriptor(target, k)] as const);
  for (const k of FIELDS) {
    let value = target[k];
    Object.defineProperty(target, k, {
      configurable: true,
      enumerable: true,
      get: () => value,
      set: (v: never) => {
        writes.push(k);
        value = v;
      },
    });
  }
  const undo = () => {
    for (const [k, d] of saved) {
      const value = target[k];
      if (d) Object.defineProperty(target, k, d);
      (target as unknown as Record<string, unknown>)[k] = value;
    }
  };
  return { writes, undo };
}

const fresh = (): SourceEnv => ({ allowLocalModels: false, allowRemoteModels: true, localModelPath: '/models/', remoteHost: 'https://huggingface.co/', remotePathTemplate: '{model}/resolve/{revision}/' });

describe('sourceApplier', () => {
  it('writes a source once; the same source again (another object) writes nothing; a changed one writes', () => {
    const target = fresh();
    const { writes } = recordWrites(target);
    const apply = sourceApplier(target);
    expect(apply({ kind: 'local', localModelPath: '/a' })).toBe(true);
    expect(target).toMatchObject({ allowLocalModels: true, allowRemoteModels: false, localModelPath: '/a/' });
    const first = writes.length;
    expect(first).toBeGreaterThan(0);
    expect(apply({ kind: 'local', localModelPath: '/a/' })).toBe(false);
    expect(writes).toHaveLength(first);
    expect(apply({ kind: 'local', localModelPath: '/b' })).toBe(true);
    expect(target.localModelPath).toBe('/b/');
    expect(apply({ kind: 'hub', remoteHost: 'https://mirror.example/' })).toBe(true);
    expect(target).toMatchObject({ allowLocalModels: false, allowRemoteModels: true, remoteHost: 'https://mirror.example/' });
    expect(apply({ kind: 'hub' })).toBe(true);
    expect(target.remoteHost).toBe('https://huggingface.co/');
    const settled = writes.length;
    expect(apply({ kind: 'hub' })).toBe(false);
    expect(writes).toHaveLength(settled);
  });

  it('a value changed behind its back (a fixture writing env) is put back on the next apply', () => {
    const target = fresh();
    const apply = sourceApplier(target);
    apply({ kind: 'local', localModelPath: '/a/' });
    target.localModelPath = '/elsewhere/';
    expect(apply({ kind: 'local', localModelPath: '/a/' })).toBe(true);
    expect(target.localModelPath).toBe('/a/');
  });
});

describe('VlmEngine.load and transformers.js’s env', () => {
  let root: string;
  let undo = () => {};
  beforeAll(async () => {
    root = await ensureTinyModel();
  });
  afterEach(() => undo());

  it('a second load with the same source does not write env again; a load from another source does', async () => {
    const engine = new VlmEngine();
    const source: ModelSource = { kind: 'local', localModelPath: root };
    const load = (dtype: 'fp32' | 'q8', src: ModelSource) =>
      engine.load({ model: MODEL_ID, device: 'cpu', source: src, dtypes: { vision_encoder: dtype, embed_tokens: dtype, decoder_model_merged: dtype } });
    await load('fp32', source);
    const rec = recordWrites(env);
    undo = rec.undo;
    // Other dtypes: a real reload, from the same source.
    await load('q8', { ...source });
    expect(engine.current?.dtypes.decoder_model_merged).toBe('q8');
    expect(rec.writes).toEqual([]);
    // Another source: written (the load itself then fails, the folder holds no model).
    await expect(load('fp32', { kind: 'local', localModelPath: `${root}/nowhere` })).rejects.toThrow();
    expect(rec.writes).toContain('localModelPath');
    expect(env.localModelPath).toBe(`${root}/nowhere/`);
    await engine.unload();
  });
});
