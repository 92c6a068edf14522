import * as v from 'valibot';
import { DEFAULT_GENERATION, type GenerationSettings, type ImageDetail } from '../../chat/backend';
import { DEFAULT_WINDOW } from '../../chat/context';
import { MAX_SEED } from '../../chat/sampling';
import { DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../../chat/service';
import type { EngineSettings } from '../../engine/api';
import { DEFAULT_MODEL_ID, findModel } from '../../engine/models';
import type { DevicePreference } from '../../engine/protocol';
import { readsImagesByName } from '../../remote/image-models';
import { modelSourceFor } from './model-source';

const THEMES = ['system', 'light', 'dark'] as const;
const BACKENDS = ['local', 'remote'] as const;
const DETAILS = ['low', 'auto', 'high'] as const satisfies readonly ImageDetail[];
const DEVICES = ['auto', 'webgpu', 'wasm'] as const satisfies readonly DevicePreference[];

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

/** Whether an id names a model loaded from a folder (see importModelFolder in src/engine/model-files.ts). */
export function isLocalModel(id: string): boolean {
  return LOCAL_MODEL.test(id);
}

/** A number held to its LIMITS (corrected, not refused), whole when `round`. */
const bounded = (key: keyof typeof LIMITS, round = false) => v.pipe(v.number(), v.transform((n) => {
  const held = Math.min(LIMITS[key].max, Math.max(LIMITS[key].min, n));
  return round ? Math.round(held) : held;
}));
const text = (max: number, trim = false) => v.pipe(v.string(), v.transform((t) => (trim ? t.trim() : t).slice(0, max)));

/**
 * Everything the settings panel edits, as stored in localStorage. Each field falls back to its default on its
 * own when what was stored does not fit (an older version, a hand edit): the others are kept.
 */
function settingsSchema() {
  return v.object({
    theme: v.fallback(v.picklist(THEMES), 'system'),
    backend: v.fallback(v.picklist(BACKENDS), 'local'),
    /** The Glimpse proxy for the remote backend, e.g. http://127.0.0.1:8787. */
    proxyUrl: v.fallback(text(2000), 'http://127.0.0.1:8787'),
    /** Model id from the local model list (or one of `localModels`; checked after parsing). */
    localModel: v.fallback(v.string(), DEFAULT_MODEL_ID),
    /** Model name asked of the proxy ('' = the proxy's default). */
    remoteModel: v.fallback(text(200), ''),
    /**
     * "This model reads images", per remote model name ('' = the proxy's default), where the user said so;
     * otherwise the name decides (readsImagesByName). See remoteReadsImages.
     */
    remoteImages: v.fallback(v.pipe(v.record(v.pipe(v.string(), v.maxLength(200)), v.boolean()),
      v.check((r) => Object.keys(r).length <= 50)), () => ({})),
    /**
     * What the proxy at `url` said in its /health: its default model, and which of its models read images.
     * It decides "reads images" where the user did not (see remoteReadsImages); refreshed at each check.
     */
    proxyModels: v.fallback(v.nullable(v.object({
      url: text(2000),
      defaultModel: text(200),
      models: v.pipe(v.array(text(200)), v.maxLength(100)),
      imageModels: v.pipe(v.array(text(200)), v.maxLength(100)),
    })), null),
    imageDetail: v.fallback(v.picklist(DETAILS), DEFAULT_GENERATION.imageDetail),
    temperature: v.fallback(bounded('temperature'), DEFAULT_GENERATION.temperature),
    /** Nucleus sampling: only used when temperature > 0. */
    topP: v.fallback(bounded('topP'), DEFAULT_GENERATION.topP),
    /** > 1 discourages repeating tokens already in the conversation. */
    repetitionPenalty: v.fallback(bounded('repetitionPenalty'), DEFAULT_GENERATION.repetitionPenalty),
    maxNewTokens: v.fallback(bounded('maxNewTokens', true), DEFAULT_GENERATION.maxNewTokens),
    /**
     * A fixed seed (null = none): asks for determinism, the same answer each time, Regenerate included.
     * Without one, Regenerate samples afresh (src/chat/sampling.ts).
     */
    seed: v.fallback(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_SEED))), null),
    systemPrompt: v.fallback(text(4000), DEFAULT_GENERATION.systemPrompt),
    /** Messages the model sees. */
    windowSize: v.fallback(bounded('windowSize', true), DEFAULT_WINDOW),
    /**
     * Where model files are downloaded from ('' = the Hugging Face hub, or the build's VITE_MODEL_HOST):
     * a URL or a path relative to the page, laid out as {owner}/{name}/resolve/main/{file}. Read at start-up.
     */
    modelHost: v.fallback(text(500, true), ''),
    /** Models loaded from a folder on this device (`local/<folder>`), offered next to the built-in ones. */
    localModels: v.fallback(v.pipe(v.array(v.unknown()), v.transform((list) =>
      [...new Set(list.filter((m): m is string => typeof m === 'string' && isLocalModel(m)))].slice(0, 50))), () => []),
    /** Where the local model runs: Auto (the faster device here), the GPU, or the processor (WebAssembly). */
    device: v.fallback(v.picklist(DEVICES), 'auto'),
    /** Memory the model may keep for recent chats (their KV caches), in MB: going back to one resumes at once. */
    kvBudgetMB: v.fallback(bounded('kvBudgetMB', true), 512),
  });
}

const SettingsSchema = settingsSchema();

/** Everything the settings panel edits. Plain JSON, persisted in localStorage. */
export type AppSettings = v.InferOutput<typeof SettingsSchema>;
export type ThemeChoice = AppSettings['theme'];
export type BackendChoice = AppSettings['backend'];

/** Every field's default: what the schema gives for nothing stored. */
export const DEFAULT_SETTINGS: AppSettings = v.parse(SettingsSchema, {});

/** Repairs whatever was stored (an older version, a hand edit) into valid settings, field by field. */
export function normalizeSettings(raw: unknown): AppSettings {
  const r = v.safeParse(SettingsSchema, raw);
  const s = r.success ? r.output : v.parse(SettingsSchema, {});
  const known = findModel(s.localModel) || s.localModels.includes(s.localModel);
  return known ? s : { ...s, localModel: DEFAULT_SETTINGS.localModel };
}

/**
 * Whether the chosen remote model reads images: what the user said for it, else what the proxy in use said
 * of it (its default model when none is named), else by its name.
 */
export function remoteReadsImages(
  s: Pick<AppSettings, 'remoteModel' | 'remoteImages'> & Partial<Pick<AppSettings, 'proxyModels' | 'proxyUrl'>>,
): boolean {
  const said = s.remoteImages[s.remoteModel];
  if (said !== undefined) return said;
  const proxy = s.proxyModels && s.proxyModels.url === s.proxyUrl ? s.proxyModels : null;
  const name = s.remoteModel || proxy?.defaultModel || '';
  if (proxy && (proxy.models.includes(name) || name === proxy.defaultModel)) return proxy.imageModels.includes(name);
  return readsImagesByName(name);
}

/** Whether the chosen backend sees images: the local model always does, the remote one per the setting. */
export const acceptsImages = (s: AppSettings): boolean => s.backend === 'local' || remoteReadsImages(s);

/** What the local engine needs from the app settings. */
export function toEngineSettings(s: AppSettings): EngineSettings {
  return { device: s.device, kvBudgetBytes: s.kvBudgetMB * 2 ** 20, source: modelSourceFor(s.modelHost).source };
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
    ...(s.seed === null ? {} : { seed: s.seed }),
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
