/** A model loaded from a folder after the host could not be reached (issue 23): the header and card move on. */
import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_NAME, requiredFiles } from '../../../src/engine/model-files';
import { $, $maybe, mountApp, waitFor, type Mounted } from './helpers';

let m: Mounted;
afterEach(async () => {
  const cache = await caches.open(CACHE_NAME);
  for (const r of await cache.keys()) if (r.url.includes('/local/after-error/')) await cache.delete(r);
  await m?.dispose();
});

const line = () => $maybe(m.root, 'model-status', '.line')?.textContent?.replace(/\s+/g, ' ').trim() ?? '';

describe('a model from a folder after a failed download', () => {
  it('the header stops saying the host cannot be reached, without Try again', async () => {
    m = await mountApp({ engine: { offline: true, downloadMs: 300 } });
    await waitFor(() => $maybe(m.root, 'model-status', 'button.download'), 3000, 'Download now');
    $(m.root, 'model-status', 'button.download').click();
    await waitFor(() => line().includes('Can’t reach huggingface.co'), 5000, 'the error in the header');
    await waitFor(() => !$(m.root, 'chat-view', 'engine-card').hidden, 3000, 'the card');

    // Settings → Storage → Load a model from a folder (the files this device needs).
    $(m.root, 'header button.settings').click();
    const panel = await waitFor(() => $maybe(m.root, 'settings-panel'), 5000, 'the settings dialog');
    await waitFor(() => $maybe(panel, 'dialog[open]'), 3000, 'the dialog');
    $(panel, '#tab-storage').click();
    const mm = await waitFor(() => $maybe<HTMLElementTagNameMap['model-manager']>(panel, 'storage-panel', 'model-manager'), 5000, 'the models');
    const device = m.engine.device ?? (await m.engine.probe());
    const files = requiredFiles(device).map((p) => {
      const f = new File([p.endsWith('.onnx') ? 'x'.repeat(2048) : '{}'], p.split('/').pop()!);
      Object.defineProperty(f, 'webkitRelativePath', { value: `after-error/${p}` });
      return f;
    });
    await mm.importFolder(files);
    expect(m.settings.value.localModel).toBe('local/after-error');

    await waitFor(() => !line().includes('Can’t reach'), 3000, 'the header to move on');
    expect(line()).toContain('after-error');
    expect(line()).toContain('On this device');
    expect($(m.root, 'chat-view', 'engine-card').hidden).toBe(true);
  });
});
