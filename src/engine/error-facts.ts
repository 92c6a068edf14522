/**
 * Structured facts read from what ONNX Runtime, WebGPU, fetch and transformers.js throw: the error's class,
 * an HTTP status, ONNX Runtime's status code. Text is matched only where it is all there is, and then on
 * whole words or on a runtime's fixed message (never a bare substring: "oom" is in "zoom", "404" in "14041").
 */

/** ONNX Runtime's status codes (onnxruntime/core/common/status.h), as its errors print them. */
export const ORT_STATUS = {
  FAIL: 1, INVALID_ARGUMENT: 2, NO_SUCHFILE: 3, NO_MODEL: 4, ENGINE_ERROR: 5, RUNTIME_EXCEPTION: 6,
  INVALID_PROTOBUF: 7, MODEL_LOADED: 8, NOT_IMPLEMENTED: 9, INVALID_GRAPH: 10, EP_FAIL: 11,
} as const;

export interface OrtStatus {
  code: number;
  /** What follows the code: the failing node and ONNX Runtime's own status message. */
  message: string;
}

const ORT_NODE = /^\[ONNXRuntimeError\] : (\d{1,2}) : [A-Z_]+ : ([\s\S]*)$/; // onnxruntime-node
const ORT_WEB = /\bERROR_CODE: (\d{1,2}), ERROR_MESSAGE: ([\s\S]*)$/; // onnxruntime-web's checkLastError

/** The status of an ONNX Runtime error: "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : …" or "… ERROR_CODE: 6, ERROR_MESSAGE: …". */
export function ortStatus(message: string): OrtStatus | null {
  const m = ORT_NODE.exec(message) ?? ORT_WEB.exec(message);
  return m ? { code: Number(m[1]), message: m[2] ?? '' } : null;
}

// transformers.js (src/utils/hub/constants.js ERROR_MAPPING, hub/utils.js handleError): a failed download
// throws `${ERROR_MAPPING[status] ?? `Error (${status}) occurred while trying to load file`}: "${url}".`,
// as a ModelFileNotFoundError with `status` for 401/403/404, a plain Error otherwise.
const HUB_MESSAGES: Record<string, number> = {
  'Bad request error occurred while trying to load file': 400,
  'Unauthorized access to file': 401,
  'Forbidden access to file': 403,
  'Could not locate file': 404,
  'Request timeout error occurred while trying to load file': 408,
  'Internal server error error occurred while trying to load file': 500,
  'Bad gateway error occurred while trying to load file': 502,
  'Service unavailable error occurred while trying to load file': 503,
  'Gateway timeout error occurred while trying to load file': 504,
};
const HUB_OTHER = /^Error \((\d{3})\) occurred while trying to load file: "/;

/** The HTTP status of a model file's failed download, when transformers.js reports one. */
export function httpStatus(err: unknown): number | null {
  if (!(err instanceof Error)) return null;
  const status = (err as { status?: unknown }).status;
  if (err.name === 'ModelFileNotFoundError' && typeof status === 'number') return status;
  const other = HUB_OTHER.exec(err.message);
  if (other) return Number(other[1]);
  const colon = err.message.indexOf(': "');
  return colon > 0 ? (HUB_MESSAGES[err.message.slice(0, colon)] ?? null) : null;
}

/**
 * The file a failed download asked for, from transformers.js's message (`…: "https://host/owner/name/resolve/
 * main/onnx/x.onnx".`): the host and the file's path in the model (after `/resolve/<revision>/`, else its name).
 */
export function failedFile(err: unknown): { host: string; file: string } | null {
  if (!(err instanceof Error)) return null;
  const m = /: "([^"]+)"\.?$/.exec(err.message);
  if (!m) return null;
  try {
    const url = new URL(m[1]!);
    const path = decodeURIComponent(url.pathname);
    const file = /\/resolve\/[^/]+\/(.+)$/.exec(path)?.[1] ?? path.split('/').pop() ?? path;
    return { host: url.host, file };
  } catch {
    return null;
  }
}

/**
 * A fetch that failed as a whole: `unreachable` when it never connected (Chromium "Failed to fetch",
 * Firefox "NetworkError when attempting to fetch resource.", Safari "Load failed", Node "fetch failed"),
 * `interrupted` when a body was cut half-way (Chromium "network error", Node "terminated"). Each is a
 * TypeError with exactly that message.
 */
export function networkFailure(err: unknown): 'unreachable' | 'interrupted' | null {
  if (!(err instanceof TypeError)) return null;
  const m = err.message;
  if (m === 'Failed to fetch' || m === 'Load failed' || m === 'fetch failed' || m.startsWith('NetworkError when attempting to fetch resource')) {
    return 'unreachable';
  }
  return m === 'network error' || m === 'terminated' ? 'interrupted' : null;
}

const OOM_WORDS = /\b(?:out of memory|OOM|bad_alloc|failed to allocate|allocation failed|cannot enlarge memory)\b/i;

/** The processor's or the GPU's memory ran out. */
export function isOutOfMemory(err: unknown, text: string): boolean {
  const name = errorClass(err);
  if (name === 'GPUOutOfMemoryError') return true;
  // V8: "Array buffer allocation failed", "Invalid typed array length: 4294967296"; Wasm memory that cannot grow.
  if (name === 'RangeError' && /\b(?:allocation failed|invalid typed array length|memory)\b/i.test(text)) return true;
  // ONNX Runtime's wasm heap overrun shows as WebAssembly's RuntimeError.
  if (name === 'RuntimeError' && /\bmemory access out of bounds\b/.test(text)) return true;
  // WebGPU: "Buffer size (…) exceeds the max buffer size limit (…)".
  return OOM_WORDS.test(text) || /\bexceeds the max buffer size limit\b|\bmaxBufferSize\b/.test(text);
}

/** The WebGPU device went away (driver reset, too much GPU memory, the tab in the background on mobile). */
export function isDeviceLost(err: unknown, text: string): boolean {
  if (errorClass(err) === 'GPUDeviceLostInfo') return true;
  // A GPUDeviceLostInfo passed on as the error: { reason: 'unknown' | 'destroyed', message }.
  if (!(err instanceof Error) && typeof err === 'object' && err !== null) {
    const reason = (err as { reason?: unknown }).reason;
    if ((reason === 'unknown' || reason === 'destroyed') && 'message' in err) return true;
  }
  return /\b(?:GPU )?device (?:is |was |has been )?lost\b/i.test(text);
}

/** The class of a thrown value: its constructor's name for platform classes (never minified), else `name`. */
export function errorClass(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null;
  const ctor = (err as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof ctor === 'string' && ctor !== 'Object' && ctor !== 'Error') return ctor;
  const name = (err as { name?: unknown }).name;
  return typeof name === 'string' ? name : null;
}

/** The text an error carries: its message, or the message of a plain object (GPUDeviceLostInfo), or itself. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}
