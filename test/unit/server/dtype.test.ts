/**
 * GLIMPSE_DTYPE: which ONNX files the REST API's local engine loads. The setting's parsing; a server on a
 * model folder that holds only one choice's files answers with that choice (and a choice whose files are
 * absent does not); and on the default files a follow-up answered from the KV cache equals the same turn
 * computed from nothing (a server with no KV cache memory), over real HTTP on the tiny generated model.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedOnnxFiles } from '../../../src/engine/device';
import { loadApiConfig } from '../../../src/server/config';
import { configProblems as problems } from '../../fixtures/api-config';
import { API_DTYPES, DEFAULT_API_DTYPE, dtypesFor, type ApiDtype } from '../../../src/server/dtypes';
import { startApiServer, type RunningApi } from '../../../src/server/node';
import type { NodeBackend } from '../../../src/server/backend';
import { makeImage } from '../../fixtures/images';
import { ensureTinyModel, MODEL_ID } from '../../fixtures/model/ensure';

const NAMES = Object.keys(API_DTYPES) as ApiDtype[];
const root = mkdtempSync(join(tmpdir(), 'glimpse-dtype-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('GLIMPSE_DTYPE', () => {
  it('defaults to q4: the 4-bit decoder with the 8-bit vision encoder and embeddings', () => {
    expect(DEFAULT_API_DTYPE).toBe('q4');
    expect(loadApiConfig({})).toMatchObject({
      dtype: 'q4',
      dtypes: { vision_encoder: 'q8', embed_tokens: 'q8', decoder_model_merged: 'q4' },
    });
  });

  it('each allowed name gives its files; case and spaces do not matter', () => {
    for (const name of NAMES) expect(loadApiConfig({ GLIMPSE_DTYPE: name }).dtypes).toEqual(API_DTYPES[name]);
    expect(loadApiConfig({ GLIMPSE_DTYPE: ' FP32 ' })).toMatchObject({ dtype: 'fp32', dtypes: API_DTYPES.fp32 });
    expect(loadApiConfig({ GLIMPSE_DTYPE: 'Q4-FP32' }).dtype).toBe('q4-fp32');
  });

  it('a value that is not a choice is refused, naming every allowed value', () => {
    for (const bad of ['q4f16', 'fp16', 'int4', 'toString', '__proto__']) {
      expect(problems({ GLIMPSE_DTYPE: bad })).toEqual([
        `GLIMPSE_DTYPE must be one of fp32, q8, q4, q4-fp32 (got "${bad.toLowerCase()}"; see docs/engine.md)`,
      ]);
    }
    // Listed with the other problems, at once.
    expect(problems({ GLIMPSE_DTYPE: 'fast', PORT: 'x' })).toHaveLength(2);
  });
});

/** A model root holding the tiny model's JSON files and only the ONNX files of `dtype` (symlinks). */
async function folderWith(dtype: ApiDtype): Promise<string> {
  const tiny = join(await ensureTinyModel(), MODEL_ID);
  const out = join(root, `model-${dtype}`);
  const dir = join(out, MODEL_ID);
  if (existsSync(dir)) return out;
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const f of readdirSync(tiny)) if (f !== 'onnx') symlinkSync(join(tiny, f), join(dir, f));
  for (const f of expectedOnnxFiles(dtypesFor(dtype))) symlinkSync(join(tiny, f), join(dir, f));
  return out;
}

async function start(env: Record<string, string>): Promise<RunningApi> {
  return startApiServer(loadApiConfig({ DATA_DIR: mkdtempSync(join(root, 'data-')), PORT: '0', GLIMPSE_MAX_NEW_TOKENS: '12', ...env }), {
    log: () => undefined,
  });
}

async function chat(api: RunningApi, fields: Record<string, string | Blob>): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Blob) form.append(k, v, 'photo.png');
    else form.append(k, v);
  }
  const res = await fetch(`${api.url}/chat`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const engineOf = (api: RunningApi) => (api.backend as NodeBackend).engine;

describe('the server loads the files of its GLIMPSE_DTYPE', () => {
  let photo: Blob;
  beforeAll(async () => {
    photo = await makeImage('png', 96, 64, 11);
  });

  it.each(NAMES)('%s: on a folder with only its ONNX files, a turn with an image is answered', async (name) => {
    const api = await start({ MODEL_PATH: await folderWith(name), GLIMPSE_DTYPE: name });
    try {
      const { status, body } = await chat(api, { message: 'What is in this picture?', image: photo });
      expect(status).toBe(200);
      expect(String(body.response).length).toBeGreaterThan(0);
      expect(engineOf(api).current?.dtypes).toEqual(API_DTYPES[name]);
    } finally {
      await api.close();
    }
  });

  it('the default needs no fp32 file, and fp32 asked of that folder fails to load', async () => {
    const folder = await folderWith(DEFAULT_API_DTYPE);
    const byDefault = await start({ MODEL_PATH: folder });
    try {
      expect((await chat(byDefault, { message: 'Hello' })).status).toBe(200);
    } finally {
      await byDefault.close();
    }
    const fp32 = await start({ MODEL_PATH: folder, GLIMPSE_DTYPE: 'fp32' });
    try {
      const { status } = await chat(fp32, { message: 'Hello' });
      expect(status).toBe(503);
      expect(engineOf(fp32).current).toBeNull();
    } finally {
      await fp32.close();
    }
  });
});

describe('on the default files, a cached answer equals a fresh one', () => {
  it('a follow-up about a photo: from the KV cache (server A) and recomputed (server B, no cache memory)', async () => {
    const modelRoot = await ensureTinyModel();
    const photo = await makeImage('jpeg', 320, 240, 3);
    const cached = await start({ MODEL_PATH: modelRoot });
    const fresh = await start({ MODEL_PATH: modelRoot, GLIMPSE_KV_CACHE_MB: '0' });
    try {
      const answers: string[][] = [];
      for (const api of [cached, fresh]) {
        const first = await chat(api, { message: 'What is in this picture?', image: photo });
        const sid = String(first.body.session_id);
        const second = await chat(api, { session_id: sid, message: 'And what colours are in it?' });
        const third = await chat(api, { session_id: sid, message: 'Say it again, shorter.' });
        expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
        answers.push([first, second, third].map((r) => String(r.body.response)));
        // Server A resumed from its cache; B held none.
        expect(engineOf(api).cachedTokensFor(sid) > 0).toBe(api === cached);
      }
      expect(engineOf(cached).current?.dtypes).toEqual(API_DTYPES[DEFAULT_API_DTYPE]);
      expect(answers[0]).toEqual(answers[1]);
    } finally {
      await cached.close();
      await fresh.close();
    }
  });
});
