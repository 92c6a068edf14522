import { describe, expect, it } from 'vitest';
import {
  acceptsImages, DEFAULT_SETTINGS, normalizeSettings, remoteReadsImages, SettingsStore,
} from '../../../src/ui/services/settings';

/** A Storage on a Map (Node has no localStorage). */
function memoryStorage(initial: Record<string, string> = {}): Storage {
  const m = new Map(Object.entries(initial));
  return {
    get length() { return m.size; },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, v),
  };
}

describe('stored settings, field by field', () => {
  it('a field that does not fit falls back to its default alone; the others are kept', () => {
    const s = normalizeSettings({ ...DEFAULT_SETTINGS, theme: 'dark', temperature: 'hot', systemPrompt: 'Be brief.',
      device: 'quantum', remoteModel: 'gpt-4o-mini', remoteImages: 'yes' });
    expect(s).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark', systemPrompt: 'Be brief.', remoteModel: 'gpt-4o-mini' });
  });

  it('numbers out of range are held to their bounds, as before; unknown fields are dropped', () => {
    const s = normalizeSettings({ temperature: 9, windowSize: 7.6, kvBudgetMB: 1, stray: 1 });
    expect(s).toMatchObject({ temperature: 2, windowSize: 8, kvBudgetMB: 32 });
    expect(s).not.toHaveProperty('stray');
  });

  it('anything but an object, or nothing, is the defaults', () => {
    for (const raw of [undefined, null, 42, 'x', [1]]) expect(normalizeSettings(raw)).toEqual(DEFAULT_SETTINGS);
  });

  it('keeps only local models that are folder models, and a local model only if known', () => {
    const s = normalizeSettings({ localModels: ['local/mine', 'nope', 3, 'local/mine'], localModel: 'local/mine' });
    expect(s.localModels).toEqual(['local/mine']);
    expect(s.localModel).toBe('local/mine');
    expect(normalizeSettings({ localModel: 'local/gone' }).localModel).toBe(DEFAULT_SETTINGS.localModel);
  });

  it('defaults are fresh objects each time (a change to one settings value never leaks into another)', () => {
    const a = normalizeSettings({});
    a.remoteImages.x = true;
    a.localModels.push('local/x');
    expect(normalizeSettings({}).remoteImages).toEqual({});
    expect(normalizeSettings({}).localModels).toEqual([]);
  });

  it('the store reads a damaged value field by field and writes back only valid settings', () => {
    const storage = memoryStorage({ 'glimpse:settings': JSON.stringify({ backend: 'remote', topP: null, theme: 'light' }) });
    const store = new SettingsStore(storage);
    expect(store.value).toMatchObject({ backend: 'remote', theme: 'light', topP: DEFAULT_SETTINGS.topP });
    store.update({ maxNewTokens: 10 });
    expect(JSON.parse(storage.getItem('glimpse:settings')!)).toMatchObject({ backend: 'remote', maxNewTokens: 16 });
    store.dispose();
  });
});

describe('"This model reads images"', () => {
  it('defaults by name: the GPT-4o family and its fine-tunes read images, other names and the proxy default do not', () => {
    const reads = (remoteModel: string) => remoteReadsImages({ remoteModel, remoteImages: {} });
    for (const m of ['gpt-4o', 'gpt-4o-mini', 'gpt-4o-2024-08-06', 'ft:gpt-4o-mini-2024-07-18:acme:posters:abc123']) {
      expect(reads(m)).toBe(true);
    }
    for (const m of ['', 'gpt-3.5-turbo', 'ft:davinci-002:acme:t1', 'gpt-4o-audio-preview', 'llama3']) expect(reads(m)).toBe(false);
  });

  it('the toggle, stored per model, wins over the name; the local backend always sees images', () => {
    const s = normalizeSettings({ backend: 'remote', remoteModel: 'gpt-4o-mini', remoteImages: { 'gpt-4o-mini': false, '': true } });
    expect(acceptsImages(s)).toBe(false);
    expect(acceptsImages({ ...s, remoteModel: '' })).toBe(true);
    expect(acceptsImages({ ...s, backend: 'local' })).toBe(true);
  });
});
