import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION } from '../../../src/chat/backend';
import { makeContent } from '../../../src/chat/messages';
import { deleteCachedModel, importModelFolder, listCachedModels, requiredFiles, storageInfo } from '../../../src/engine/model-files';
import { EngineClient } from '../../../src/engine/client';
import { ModelFilesMissingError } from '../../../src/errors';

const TINY = '/.models/tiny/HuggingFaceTB/SmolVLM-256M-Instruct/';
// A host nothing listens on: loading can only succeed from the files put in the cache.
const offlineSource = { kind: 'hub' as const, remoteHost: 'http://127.0.0.1:9/unreachable/' };
const wasm = { device: 'wasm' as const, shaderF16: false };

async function pickedFolder(names: string[]): Promise<File[]> {
  return Promise.all(
    names.map(async (name) => {
      const blob = await (await fetch(TINY + name)).blob();
      const file = new File([blob], name.split('/').pop()!);
      Object.defineProperty(file, 'webkitRelativePath', { value: `my-smolvlm/${name}` });
      return file;
    }),
  );
}

describe('a model from a local folder', () => {
  it('loads and chats with no network, shows in the model manager, and can be deleted', async () => {
    const files = await pickedFolder([...requiredFiles(wasm), 'special_tokens_map.json']);
    const { model, bytes } = await importModelFolder(files, offlineSource, wasm);
    expect(model).toBe('local/my-smolvlm');
    expect(bytes).toBeGreaterThan(100_000);

    const client = new EngineClient({ source: offlineSource, model, forceDevice: 'wasm' });
    const out = await client.generate({
      sessionId: 's',
      messages: [{ role: 'user', content: makeContent('hello', false), timestamp: '' }],
      image: null,
      settings: { ...DEFAULT_GENERATION, model, maxNewTokens: 5 },
    });
    expect(out.stats.tokens).toBe(5);
    client.dispose();

    const listed = (await listCachedModels()).find((m) => m.model === model);
    expect(listed?.files.map((f) => f.file)).toContain('onnx/decoder_model_merged_quantized.onnx');
    expect(listed?.bytes).toBe(bytes);
    expect((await storageInfo()).usage).toBeGreaterThan(0);
    expect(await deleteCachedModel(model)).toBe(bytes);
    expect((await listCachedModels()).some((m) => m.model === model)).toBe(false);
  });

  it('a folder without the files this device needs is a named error listing them', async () => {
    const files = await pickedFolder(['config.json', 'tokenizer.json']);
    const err = await importModelFolder(files, offlineSource, wasm).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFilesMissingError);
    expect((err as Error).message).toMatch(/onnx\/decoder_model_merged_quantized\.onnx/);
  });
});
