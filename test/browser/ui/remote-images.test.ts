/** Remote mode reads what the proxy says of its models (issue 23): its default model's images, the first-run text. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { $maybe, mountApp, waitFor, type Mounted } from './helpers';

let m: Mounted;
afterEach(async () => {
  vi.restoreAllMocks();
  await m?.dispose();
});

const text = (el: Element | ShadowRoot | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
const empty = () => text($maybe(m.root, 'chat-view', 'chat-empty', 'section'));
const line = () => text($maybe(m.root, 'model-status', '.line'));
/** The /health body src/proxy/handler.ts sends. */
const health = (defaultModel: string, imageModels: string[]) =>
  Response.json({ status: 'ok', default_model: defaultModel, models: [defaultModel], image_models: imageModels,
    default_model_reads_images: imageModels.includes(defaultModel) });

describe('remote mode and images', () => {
  it('the proxy’s default model reads images (its /health says so): photos are offered, not “text only”', async () => {
    vi.spyOn(window, 'fetch').mockImplementation(() => Promise.resolve(health('ft:glimpse-vision', ['ft:glimpse-vision'])));
    m = await mountApp();
    m.settings.update({ backend: 'remote', proxyUrl: 'http://127.0.0.1:8787' });
    await waitFor(() => line().includes('Remote model ready'), 5000, 'the proxy check');
    await waitFor(() => empty().includes('The remote model sees the photo in context'), 3000, 'the photo steps');
    expect(line()).not.toContain('text only');
    expect($maybe(m.root, 'chat-view', 'chat-composer', 'button.attach, #picker')).not.toBeNull();
  });

  it('a text-only default model: the first-run text does not ask for a photo', async () => {
    vi.spyOn(window, 'fetch').mockImplementation(() => Promise.resolve(health('ft:glimpse-text', [])));
    m = await mountApp();
    m.settings.update({ backend: 'remote', proxyUrl: 'http://127.0.0.1:8787' });
    await waitFor(() => line().includes('Remote model ready'), 5000, 'the proxy check');
    await waitFor(() => empty().includes('reads text only'), 3000, 'the text-only steps');
    expect(empty()).not.toMatch(/attach a photo|about it|photo go/i);
    expect(line()).toContain('text only');
  });
});
