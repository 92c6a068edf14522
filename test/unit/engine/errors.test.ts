/**
 * classifyEngineError on what the runtimes really throw (messages as ONNX Runtime, V8, WebAssembly, WebGPU,
 * fetch and transformers.js word them), and on false friends a substring match took for something else.
 */
import { describe, expect, it } from 'vitest';
import { ModelFileNotFoundError } from '@huggingface/transformers';
import { classifyEngineError } from '../../../src/engine/errors';
import { httpStatus, ortStatus } from '../../../src/engine/error-facts';
import {
  DeviceLostError,
  EngineError,
  GlimpseError,
  ModelFilesMissingError,
  ModelLoadError,
  OutOfMemoryError,
  UnknownModelError,
} from '../../../src/errors';

const load = (err: unknown) => classifyEngineError(err, { model: 'HuggingFaceTB/SmolVLM-256M-Instruct', phase: 'load' });
const answer = (err: unknown) => classifyEngineError(err, { model: 'HuggingFaceTB/SmolVLM-256M-Instruct', phase: 'generate' });
const HUB = 'https://huggingface.co/HuggingFaceTB/SmolVLM-256M-Instruct/resolve/main';

/** A platform class by its real name (GPUOutOfMemoryError and GPUDeviceLostInfo exist only in browsers). */
class GPUOutOfMemoryError {
  constructor(readonly message: string) {}
}
class RuntimeError extends Error {} // WebAssembly.RuntimeError's name in V8

describe('out of memory', () => {
  it.each([
    ['V8 cannot allocate an ArrayBuffer', new RangeError('Array buffer allocation failed')],
    ['a typed array too large to allocate', new RangeError('Invalid typed array length: 4294967296')],
    ['Wasm memory cannot grow', new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded')],
    ['the GPU reports it', new GPUOutOfMemoryError('Not enough memory left.')],
    ['ONNX Runtime wasm heap overrun', new RuntimeError('memory access out of bounds')],
    ['Emscripten aborts', new RuntimeError('Aborted(Cannot enlarge memory arrays to size 4294967296 bytes (OOM). Either (1) compile with -sINITIAL_MEMORY=X)')],
    ['ONNX Runtime (Node) arena', new Error("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running MatMul node. Name:'/model/layers.0/mlp/down_proj/MatMul' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate memory for requested buffer of size 1073741824")],
    ['ONNX Runtime (web)', new Error('failed to call OrtRun(). ERROR_CODE: 6, ERROR_MESSAGE: std::bad_alloc')],
    ['a WebGPU buffer over the limit', new Error('Buffer size (2147483648) exceeds the max buffer size limit (1073741824).')],
  ])('%s', (_what, thrown) => {
    const err = answer(thrown);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err.data.detail).toBe(thrown.message);
  });

  it.each([
    ['zoom room', 'Cannot resize the zoom room texture'],
    ['a word holding "oom"', 'Broom: bloom filter doom'],
    ['an array too long (a bug, not memory)', new RangeError('Invalid array length')],
    ['a RangeError about something else', new RangeError('Maximum call stack size exceeded')],
  ])('not for %s', (_what, thrown) => {
    expect(answer(thrown instanceof Error ? thrown : new Error(thrown))).toBeInstanceOf(EngineError);
  });

  it('keeps ONNX Runtime’s status code', () => {
    expect(answer(new Error('failed to call OrtRun(). ERROR_CODE: 6, ERROR_MESSAGE: std::bad_alloc')).data.ortCode).toBe(6);
    expect(ortStatus('[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions for input')).toEqual({ code: 2, message: 'Got invalid dimensions for input' });
    expect(ortStatus('Step 6 : nothing to see')).toBeNull();
  });
});

describe('the GPU device lost', () => {
  it.each([
    ['mapAsync on a lost device', new DOMException("Failed to execute 'mapAsync' on 'GPUBuffer': Device is lost.", 'OperationError')],
    ['ONNX Runtime passing Dawn’s words on', new Error('failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: WebGPU device was lost')],
    ['a GPUDeviceLostInfo passed on', { reason: 'unknown', message: 'A valid external Instance reference no longer exists.' }],
  ])('%s', (_what, thrown) => {
    expect(answer(thrown)).toBeInstanceOf(DeviceLostError);
  });

  it('not for a lost word elsewhere', () => {
    expect(answer(new Error('Lost device context of the canvas: the deviceless path'))).toBeInstanceOf(EngineError);
    expect(answer({ reason: 'destroyed' })).toBeInstanceOf(EngineError); // no message: not a GPUDeviceLostInfo
  });
});

describe('a model or its files that cannot be had', () => {
  it('401 and 403 from the hub: the model does not exist or is private (transformers.js ModelFileNotFoundError.status)', () => {
    for (const status of [401, 403]) {
      const thrown = new ModelFileNotFoundError(`${status === 401 ? 'Unauthorized' : 'Forbidden'} access to file: "${HUB}/config.json".`, { status });
      const err = load(thrown);
      expect(err).toBeInstanceOf(UnknownModelError);
      expect(err.data).toMatchObject({ status });
    }
  });

  it('an id that is not owner/name, refused before any request', () => {
    const thrown = new ModelFileNotFoundError('Local file missing at "/models/not a model/config.json" and download aborted due to invalid model ID "not a model".');
    expect(load(thrown)).toBeInstanceOf(UnknownModelError);
  });

  it('404 and the statuses a retry may get past: files missing, with the status', () => {
    const cases: [Error, number][] = [
      [new ModelFileNotFoundError(`Could not locate file: "${HUB}/onnx/decoder_model_merged_q4.onnx".`, { status: 404 }), 404],
      [new Error(`Service unavailable error occurred while trying to load file: "${HUB}/onnx/embed_tokens_fp16.onnx".`), 503],
      [new Error(`Error (429) occurred while trying to load file: "${HUB}/tokenizer.json".`), 429],
    ];
    for (const [thrown, status] of cases) {
      const err = load(thrown);
      expect(err).toBeInstanceOf(ModelFilesMissingError);
      expect(err.data.status).toBe(status);
    }
  });

  it('a 404 names the missing file and the host, and does not blame the connection', () => {
    const err = load(new ModelFileNotFoundError(`Could not locate file: "${HUB}/onnx/decoder_model_merged_q4.onnx".`, { status: 404 }));
    expect(err).toBeInstanceOf(ModelFilesMissingError);
    expect(err.data).toMatchObject({ status: 404, host: new URL(HUB).host, file: 'onnx/decoder_model_merged_q4.onnx' });
    expect(err.message).toBe(
      `${new URL(HUB).host} has no file “onnx/decoder_model_merged_q4.onnx” for “HuggingFaceTB/SmolVLM-256M-Instruct” (404 Not Found). ` +
        'Use another model host that has this model, load it from a folder, or choose another model.',
    );
    expect(err.message).not.toMatch(/connection/i);
    // Another host, named as it is.
    const mirror = load(new ModelFileNotFoundError('Could not locate file: "http://127.0.0.1:8080/hub/HuggingFaceTB/SmolVLM-256M-Instruct/resolve/main/config.json".', { status: 404 }));
    expect(mirror.message).toMatch(/^127\.0\.0\.1:8080 has no file “config\.json”/);
  });

  it('a file missing from a local folder (status null)', () => {
    const thrown = new ModelFileNotFoundError('`local_files_only=true` or `env.allowRemoteModels=false` and file was not found locally at "/models/HuggingFaceTB/SmolVLM-256M-Instruct/onnx/vision_encoder.onnx".');
    expect(load(thrown)).toBeInstanceOf(ModelFilesMissingError);
  });

  it('numbers that only contain 401 or 404 are not statuses', () => {
    for (const text of ['Load model from /models/onnx/file 14041.onnx failed: invalid graph', 'Got 4010 tokens, expected 401 or fewer', 'Tensor 404 has shape [1,14040]']) {
      const err = load(new Error(text));
      expect(err).toBeInstanceOf(ModelLoadError);
      expect(err.data.status).toBeUndefined();
    }
    expect(httpStatus(new Error('Could not locate file "a" in 404 ways'))).toBeNull();
  });

  it('a network failure by its fixed TypeError message: unreachable or interrupted', () => {
    for (const m of ['Failed to fetch', 'NetworkError when attempting to fetch resource.', 'Load failed', 'fetch failed']) {
      expect(load(new TypeError(m))).toMatchObject({ name: ModelFilesMissingError.errorName, data: { network: 'unreachable' } });
    }
    for (const m of ['network error', 'terminated']) {
      expect(load(new TypeError(m))).toMatchObject({ name: ModelFilesMissingError.errorName, data: { network: 'interrupted' } });
    }
    // The same words that are not fetch's own failure.
    expect(load(new TypeError('Cannot read properties of undefined (reading "network error rate")'))).toBeInstanceOf(ModelLoadError);
    expect(load(new Error('Failed to fetch'))).toBeInstanceOf(ModelLoadError); // not a TypeError: not fetch
  });

  it('ONNX Runtime cannot find the file; an HTML page where JSON should be', () => {
    expect(load(new Error("[ONNXRuntimeError] : 3 : NO_SUCHFILE : Load model from /m/onnx/vision_encoder.onnx failed:File doesn't exist"))).toBeInstanceOf(ModelFilesMissingError);
    expect(load(new SyntaxError('Unexpected token \'<\', "<!doctype "... is not valid JSON'))).toBeInstanceOf(ModelFilesMissingError);
  });
});

describe('everything else', () => {
  it('is a load error while loading and an engine error while answering, keeping the text', () => {
    const thrown = new Error('[ONNXRuntimeError] : 10 : INVALID_GRAPH : This is an invalid model.');
    expect(load(thrown)).toMatchObject({ name: ModelLoadError.errorName, data: { ortCode: 10, detail: thrown.message } });
    expect(answer('plain string')).toMatchObject({ name: EngineError.errorName, data: { detail: 'plain string' } });
  });

  it('an error of ours passes through unchanged', () => {
    const ours = new OutOfMemoryError('x');
    expect(load(ours)).toBe(ours);
    expect(load(ours)).toBeInstanceOf(GlimpseError);
  });
});
