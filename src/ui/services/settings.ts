import { DEFAULT_GENERATION, type GenerationSettings, type ImageDetail } from '../../chat/backend';
import { DEFAULT_WINDOW } from '../../chat/context';
import { DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../../chat/service';
import type { EngineSettings } from '../../engine/api';
import { DEFAULT_MODEL_ID, findModel } from '../../engine/models';
import type { DevicePreference } from '../../engine/protocol';

export type ThemeChoice = 'system' | 'light' | 'dark';
export type BackendChoice = 'local' | 'remote';

/** Everything the settings panel edits. Plain JSON, persisted in localStorage. */
export interface AppSettings {
  theme: ThemeChoice;
  backend: BackendChoice;
  /** The Glimpse proxy for the remote backend, e.g. http://127.0.0.1:8787. */
  proxyUrl: string;
  /** Model id from the local model list. */
  localModel: string;
  /** Model name asked of the proxy ('' = the proxy's default). */
  remoteModel: string;
  imageDetail: ImageDetail;
  temperature: number;
  /** Nucleus sampling: only used when temperature > 0. */
  topP: number;
  /** > 1 discourages repeating tokens already in the conversation. */
  repetitionPenalty: number;
  maxNewTokens: number;
  systemPrompt: string;
  /** Messages the model sees. */
  windowSize: number;
  /**
   * Where model files are downloaded from ('' = the Hugging Face hub, or the build's VITE_MODEL_HOST):
   * a URL or a path relative to the page, laid out as {owner}/{name}/resolve/main/{file}. Read at start-up.
   */
  modelHost: string;
  /** Models loaded from a folder on this device (`local/<folder>`), offered next to the built-in ones. */
  localModels: string[];
  /** Where the local model runs: Auto (the faster device here), the GPU, or the processor (WebAssembly). */
  device: DevicePreference;
  /** Memory the model may keep for recent chats (their KV caches), in MB: going back to one resumes at once. */
  kvBudgetMB: number;
}

export const DEFAULT_SETTINGS: AppSettings = {
  theme: 'system',
  backend: 'local',
  proxyUrl: 'http://127.0.0.1:8787',
  localModel: DEFAULT_MODEL_ID,
  remoteModel: '',
  imageDetail: DEFAULT_GENERATION.imageDetail,
  temperature: DEFAULT_GENERATION.temperature,
  topP: DEFAULT_GENERATION.topP,
  repetitionPenalty: DEFAULT_GENERATION.repetitionPenalty,
  maxNewTokens: DEFAULT_GENERATION.maxNewTokens,
  systemPrompt: DEFAULT_GENERATION.systemPrompt,
  windowSize: DEFAULT_WINDOW,
  modelHost: '',
  localModels: [],
  device: 'auto',
  kvBudgetMB: 512,
};

/** The bounds every numeric setting is held to; the settings panel says so when a value is corrected. */
export const LIMITS = {
  temperature: { min: 0, max: 2 },
  topP: { min: 0.05, max: 1 },
  repetitionPenalty: { min: 1, max: 2 },
  maxNewTokens: { min: 16, max: 4096 },
  windowSize: { min: 2, max: 200 },
  kvBudgetMB: { min: 32, max: 8192 },
} as const;

const LOCAL_MODEL = /^local\/[A-Za-z0-9._-]{1,90}$/;

/** Whether an id names a model loaded from a folder (see importModelFolder in src/engine/cache.ts). */
export function isLocalModel(id: string): boolean {
  return LOCAL_MODEL.test(id);
}

const clamp = (v: number, lo: number, hi: number, fallback: number): number =>
  Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
const within = (v: number, key: keyof typeof LIMITS, fallback: number) => clamp(v, LIMITS[key].min, LIMITS[key].max, fallback);

/** Repairs whatever was stored (an older version, a hand edit) into valid settings. */
export function normalizeSettings(raw: unknown): AppSettings {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Partial<Record<keyof AppSettings, unknown>>;
  const d = DEFAULT_SETTINGS;
  const str = (v: unknown, f: string) => (typeof v === 'string' ? v : f);
  const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
  const pick = <T extends string>(v: unknown, allowed: readonly T[], f: T): T =>
    allowed.includes(v as T) ? (v as T) : f;
  const localModels = Array.isArray(r.localModels)
    ? [...new Set(r.localModels.filter((m): m is string => typeof m === 'string' && isLocalModel(m)))].slice(0, 50)
    : d.localModels;
  const localModel = str(r.localModel, d.localModel);
  return {
    theme: pick(r.theme, ['system', 'light', 'dark'] as const, d.theme),
    backend: pick(r.backend, ['local', 'remote'] as const, d.backend),
    proxyUrl: str(r.proxyUrl, d.proxyUrl),
    localModel: findModel(localModel) || localModels.includes(localModel) ? localModel : d.localModel,
    remoteModel: str(r.remoteModel, d.remoteModel),
    imageDetail: pick(r.imageDetail, ['low', 'auto', 'high'] as const, d.imageDetail),
    temperature: within(num(r.temperature), 'temperature', d.temperature),
    topP: within(num(r.topP), 'topP', d.topP),
    repetitionPenalty: within(num(r.repetitionPenalty), 'repetitionPenalty', d.repetitionPenalty),
    maxNewTokens: Math.round(within(num(r.maxNewTokens), 'maxNewTokens', d.maxNewTokens)),
    systemPrompt: str(r.systemPrompt, d.systemPrompt).slice(0, 4000),
    windowSize: Math.round(within(num(r.windowSize), 'windowSize', d.windowSize)),
    modelHost: str(r.modelHost, d.modelHost).trim().slice(0, 500),
    localModels,
    device: pick(r.device, ['auto', 'webgpu', 'wasm'] as const, d.device),
    kvBudgetMB: Math.round(within(num(r.kvBudgetMB), 'kvBudgetMB', d.kvBudgetMB)),
  };
}

/** What the local engine needs from the app settings. */
export function toEngineSettings(s: AppSettings): EngineSettings {
  return { device: s.device, kvBudgetBytes: s.kvBudgetMB * 2 ** 20 };
}

/** What the chat service needs from the app settings. */
export function toChatSettings(s: AppSettings): ChatSettings {
  const generation: GenerationSettings = {
    ...DEFAULT_GENERATION,
    temperature: s.temperature,
    topP: s.topP,
    repetitionPenalty: s.repetitionPenalty,
    maxNewTokens: s.maxNewTokens,
    systemPrompt: s.systemPrompt,
    imageDetail: s.imageDetail,
    model: s.backend === 'remote' ? s.remoteModel : s.localModel,
  };
  return { ...DEFAULT_CHAT_SETTINGS, windowSize: s.windowSize, generation };
}

/**
 * The settings service: the current value, `update(patch)`, and a `change` event. Kept in localStorage
 * (synchronous, so the theme is right on the first paint; the `storage` event syncs other tabs).
 */
export class SettingsStore extends EventTarget {
  #value: AppSettings;
  readonly #onStorage = (e: StorageEvent) => {
    if (e.key !== this.key || e.storageArea !== this.storage) return;
    this.#value = normalizeSettings(safeParse(e.newValue));
    this.dispatchEvent(new Event('change'));
  };

  constructor(
    private readonly storage: Storage | null = typeof localStorage === 'undefined' ? null : localStorage,
    private readonly key = 'glimpse:settings',
  ) {
    super();
    this.#value = normalizeSettings(safeParse(this.read()));
    if (typeof window !== 'undefined') window.addEventListener('storage', this.#onStorage);
  }

  get value(): AppSettings {
    return this.#value;
  }

  update(patch: Partial<AppSettings>): AppSettings {
    this.#value = normalizeSettings({ ...this.#value, ...patch });
    try {
      this.storage?.setItem(this.key, JSON.stringify(this.#value));
    } catch {
      // Private mode or a full quota: the settings still apply for this visit.
    }
    this.dispatchEvent(new Event('change'));
    return this.#value;
  }

  /** Back to the defaults, except what describes this device's storage (models from folders, the model host). */
  reset(): AppSettings {
    const { localModels, modelHost } = this.#value;
    return this.update({ ...DEFAULT_SETTINGS, localModels, modelHost });
  }

  dispose(): void {
    if (typeof window !== 'undefined') window.removeEventListener('storage', this.#onStorage);
  }

  private read(): string | null {
    try {
      return this.storage?.getItem(this.key) ?? null;
    } catch {
      return null;
    }
  }
}

function safeParse(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
