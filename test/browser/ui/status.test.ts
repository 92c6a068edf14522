import { afterEach, describe, expect, it, vi } from 'vitest';
import { $, $all, $maybe, messageItems, mountApp, send, settled, waitFor, type Mounted } from './helpers';

/** Issue 14, items 1-7: what the page says about the model, the device, the download and the proxy. */
let m: Mounted;
afterEach(async () => {
  vi.restoreAllMocks();
  await m?.dispose();
});

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const text = (el: Node | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
const line = () => text($maybe(m.root, 'model-status', '.line'));
const guidance = () => text($maybe(m.root, 'chat-view', 'chat-empty', '.steps'));
const visibleText = () => [line(), guidance(), text($maybe(m.root, 'model-status'))].join(' ');

describe('a model already downloaded (item 1)', () => {
  it('says it is on this device and loads when asked, never to download it', async () => {
    m = await mountApp({ engine: { downloaded: [MODEL] } });
    await waitFor(() => line().includes('On this device · loads when you ask'), 3000, 'on this device');
    expect(line()).not.toMatch(/download/i);
    expect($maybe(m.root, 'model-status', 'button.download')).toBeNull();
    await waitFor(() => guidance().includes('already on this device'), 3000, 'the guidance');
    expect(guidance()).not.toMatch(/downloads the model/);
    // Loading it downloads nothing: straight to Starting, then Ready.
    await send(m.root, 'hello');
    await settled(m);
    expect(line()).toContain('Ready');
  });

  it('a model deleted in Storage is offered for download again', async () => {
    m = await mountApp({ engine: { downloaded: [MODEL] } });
    await waitFor(() => line().includes('On this device'), 3000, 'on this device');
    m.engine.deleteDownload(MODEL);
    m.root.dispatchEvent(new Event('storage-change', { bubbles: true, composed: true }));
    await waitFor(() => line().includes('Not downloaded yet (325 MB, once)'), 3000, 'the download offer');
  });
});

describe('where the model runs (items 2 and 6)', () => {
  it('says “Will run on” until it runs, then “Running on”', async () => {
    m = await mountApp();
    await waitFor(() => line().includes('Will run on WebGPU (Fake GPU)'), 3000, 'will run');
    expect(line()).not.toContain('Running on');
    await send(m.root, 'hello');
    await settled(m);
    expect(line()).toContain('Running on WebGPU (Fake GPU)');
    expect(line()).not.toContain('Will run on');
  });

  it('WebAssembly: one plain line with why and a link to turn on the GPU; no notice card, no jargon', async () => {
    m = await mountApp({ engine: { device: 'wasm' } });
    await waitFor(() => line().includes('Will run on the processor (WebAssembly) — the browser offers no GPU here'), 3000, 'the device line');
    const link = $<HTMLAnchorElement>(m.root, 'model-status', '.device a');
    expect(link.textContent).toBe('How to turn on the GPU');
    expect(link.href).toMatch(/^https:\/\/developer\.chrome\.com\/.*webgpu.*troubleshooting/);
    expect(link.target).toBe('_blank');
    expect($all(m.root, ['model-status'], 'error-banner')).toHaveLength(0);
    expect(visibleText()).not.toMatch(/adapter|blocklisted|headless/i);
  });

  it('a software GPU only: Auto runs on WebAssembly and says why; GPU in Settings switches and says so', async () => {
    m = await mountApp({ engine: { device: 'software' } });
    await waitFor(() => line().includes('Will run on the processor (WebAssembly) — the only GPU here is a slow software one'), 3000, 'auto');
    m.settings.update({ device: 'webgpu' });
    await waitFor(() => line().includes('Will run on WebGPU (google swiftshader, software) — as set in Settings; a software GPU is slow'), 3000, 'gpu');
    expect(m.engine.prefer).toBe('webgpu');
  });
});

describe('a model host that cannot be reached (item 3)', () => {
  it('names the cause, shows one card with Try again (Retrying…), a folder and another host', async () => {
    m = await mountApp({ engine: { offline: true, downloadMs: 600 } });
    await send(m.root, 'What is this?');
    const answer = () => messageItems(m.root)[1]!;
    const card = await waitFor(() => $maybe<HTMLElementTagNameMap['error-banner']>(answer(), 'error-banner'), 5000, 'the card');
    await card.updateComplete;
    expect(text($(card, 'strong'))).toBe('Can’t reach the model host');
    expect(text($(card, '.message'))).toMatch(/^huggingface\.co does not answer: this device is offline, or the site is blocked here\./);
    expect(text(card.shadowRoot)).not.toMatch(/Check your connection.*Check your connection/);
    expect([...card.querySelectorAll('button')].map((b) => text(b))).toEqual(['Try again']);
    expect($all(card, [], '.actions > .btn').map((b) => text(b))).toEqual(['Load a model from a folder', 'Use another model host']);
    // One card: the header says it in a line, and no second card sits above the composer.
    expect(line()).toContain('Can’t reach huggingface.co');
    expect($all(m.root, ['model-status'], 'error-banner')).toHaveLength(0);
    expect($(m.root, 'chat-view', 'engine-card').hidden).toBe(true);

    // Try again says it is retrying while it does.
    const failed = answer();
    const retry = card.querySelector<HTMLButtonElement>('button.retry')!;
    retry.click();
    await failed.updateComplete;
    expect(text(retry)).toBe('Retrying…');
    expect(retry.disabled).toBe(true);
    await waitFor(() => messageItems(m.root)[1]?.message?.status === 'error' && $maybe(messageItems(m.root)[1]!, 'error-banner'), 5000, 'the retry to fail again');

    // “Use another model host” opens Settings → Storage at the host field.
    $(messageItems(m.root)[1]!, 'error-banner', 'button.host').click();
    const host = await waitFor(() => $maybe<HTMLInputElement>(m.root, 'settings-panel', 'storage-panel', 'model-manager', '#model-host'), 5000, 'the host field');
    await waitFor(() => host.matches(':focus'), 3000, 'focus on the host field');
    expect($<HTMLElement>(m.root, 'settings-panel', '#tab-storage').getAttribute('aria-selected')).toBe('true');
  });

  it('from the header (no question asked): one card above the composer, Try again retries', async () => {
    m = await mountApp({ engine: { offline: true, downloadMs: 600 } });
    await waitFor(() => $maybe(m.root, 'model-status', 'button.download'), 3000, 'Download now');
    $(m.root, 'model-status', 'button.download').click();
    const card = await waitFor(() => $maybe<HTMLElementTagNameMap['error-banner']>(m.root, 'chat-view', 'engine-card', 'error-banner'), 5000, 'the card');
    await card.updateComplete;
    expect(text($(card, 'strong'))).toBe('Can’t reach huggingface.co');
    const retry = () => $<HTMLButtonElement>(m.root, 'chat-view', 'engine-card', 'button.retry');
    const loads = m.engine.loads;
    retry().click();
    // The card stays while it retries, and says so.
    await waitFor(() => retry().textContent?.includes('Retrying…') && retry().disabled, 1000, 'Retrying…');
    expect(m.engine.status.state).toBe('loading');
    await waitFor(() => retry().textContent?.includes('Try again') && !retry().disabled, 5000, 'the retry to end');
    expect(m.engine.loads).toBe(loads + 1);
    // Back online: Try again loads the model and the card goes.
    m.engine.offline = false;
    retry().click();
    await waitFor(() => $(m.root, 'chat-view', 'engine-card').hidden, 8000, 'the card to go');
    expect(line()).toContain('Ready');
  });
});

describe('what an answer waits for (item 4)', () => {
  it('shows the stage and the seconds elapsed, in the answer and in the header', async () => {
    m = await mountApp({ engine: { downloadMs: 60 } });
    m.backend.prefillScale = 20; // 2.4 s before the first token
    await send(m.root, 'What is this?');
    const pending = () => text($maybe(messageItems(m.root).at(-1) ?? m.root, '.thinking'));
    await waitFor(() => pending().startsWith('Preparing the GPU — first time only'), 3000, 'the warm-up stage');
    expect(line()).toContain('Preparing the GPU — first time only');
    await waitFor(() => /first time only · [12] s$/.test(pending()), 3000, 'the seconds');
    await settled(m);
    // The next answer on a warm GPU only reads the conversation.
    m.backend.prefillScale = 8;
    await send(m.root, 'And now?');
    await waitFor(() => pending().startsWith('Reading the conversation'), 3000, 'the prompt stage');
    await settled(m, 4);
  });

  it('a new picture: reading the image and its tokens', async () => {
    m = await mountApp({ engine: { device: 'wasm', downloadMs: 60 } });
    m.backend.prefillScale = 10;
    const input = $<HTMLInputElement>(m.root, 'chat-view', 'chat-composer', '#picker');
    const { pngFile, filesOf } = await import('./helpers');
    input.files = filesOf(await pngFile(640, 480)).files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    await waitFor(() => $maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.pending'), 5000, 'the chip');
    await send(m.root, 'What is this?');
    await waitFor(() => text($maybe(messageItems(m.root)[1] ?? m.root, '.thinking')).startsWith('Reading the image — 320 tokens'), 5000, 'the image stage');
    // Then the frame the vision encoder reads (640×480 at detail auto: 2 × 2 tiles and the global frame), in
    // the answer and in the header.
    await waitFor(() => /^Reading the image · frame [1-5] of 5/.test(text($maybe(messageItems(m.root)[1] ?? m.root, '.thinking'))), 5000, 'the frames');
    await waitFor(() => /Reading the image · frame [1-5] of 5/.test(line()), 5000, 'the frames in the header');
    await settled(m);
  });

  it('after the download, starting the model is said as such (not “Downloading 100%”)', async () => {
    m = await mountApp({ engine: { downloaded: [MODEL], downloadMs: 1200 } });
    await send(m.root, 'hello');
    await waitFor(() => text($maybe(messageItems(m.root)[1] ?? m.root, '.thinking')).startsWith('Starting the model'), 3000, 'starting');
    expect(line()).toMatch(/^Starting SmolVLM 256M/);
    await settled(m);
  });
});

describe('the download in the header (item 5)', () => {
  it('stays small: one bar; the files behind Details', async () => {
    m = await mountApp({ engine: { downloadMs: 2000 } });
    await waitFor(() => $maybe(m.root, 'model-status', 'button.download'), 3000, 'Download now');
    $(m.root, 'model-status', 'button.download').click();
    const progress = await waitFor(() => $maybe(m.root, 'model-status', '.progress'), 3000, 'the progress');
    expect(progress.querySelectorAll('progress')).toHaveLength(1);
    const header = $(m.root, 'header');
    expect(header.getBoundingClientRect().height).toBeLessThan(160);
    const details = progress.querySelector('details')!;
    details.open = true;
    await waitFor(() => header.getBoundingClientRect().height > 160, 2000, 'the file list open');
    await waitFor(() => line().includes('Ready'), 8000, 'Ready');
  });
});

describe('the remote proxy (item 7)', () => {
  it('amber “Proxy not reachable” with what to do; ready once it answers; checked again after a failed answer', async () => {
    const fetch = vi.spyOn(window, 'fetch').mockRejectedValue(new TypeError('Failed to fetch'));
    m = await mountApp();
    m.settings.update({ backend: 'remote', proxyUrl: 'http://127.0.0.1:8787' });
    await waitFor(() => line().includes('Proxy not reachable'), 3000, 'not reachable');
    expect($(m.root, 'model-status', '.dot').classList.contains('warning')).toBe(true);
    expect(text($(m.root, 'model-status', 'error-banner', '.message'))).toContain('npm run proxy');
    expect(fetch.mock.calls[0]![0]).toBe('http://127.0.0.1:8787/health');

    fetch.mockResolvedValue(Response.json({ status: 'ok', default_model: 'ft:glimpse' }));
    $(m.root, 'model-status', 'button.recheck').click();
    await waitFor(() => line().includes('Remote model ready'), 3000, 'ready');
    expect(line()).toContain('ft:glimpse');
    expect($(m.root, 'model-status', '.dot').classList.contains('ready')).toBe(true);

    // The proxy goes down: the answer fails to connect, and the status line checks again.
    fetch.mockRejectedValue(new TypeError('Failed to fetch'));
    const calls = fetch.mock.calls.length;
    await send(m.root, 'hello?');
    await waitFor(() => line().includes('Proxy not reachable'), 20_000, 'not reachable again'); // the SDK loads on first use
    expect(fetch.mock.calls.slice(calls).some((c) => c[0] === 'http://127.0.0.1:8787/health')).toBe(true);
  });
});
