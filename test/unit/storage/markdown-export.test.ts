/**
 * The Markdown export of one chat (src/storage/markdown-export.ts), read back with marked, the renderer
 * the app shows answers with: the layout is what it should be, whatever the user typed or the model wrote.
 */
import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { chatMarkdown, closeFences, escapeText } from '../../../src/storage/markdown-export';
import type { ExportedMessage, ExportedSession, ExportFile } from '../../../src/storage/transfer';
import { exportFileName } from '../../../src/ui/services/transfer';

const HASH = 'b'.repeat(64);
const PNG = 'iVBORw0KGgo='; // (the bytes do not matter to the text)
const images: ExportFile['images'] = { [HASH]: { type: 'image/png', data: PNG } };
const at = (minute: number) => `2026-11-30T18:${String(minute).padStart(2, '0')}:00.000Z`;
const user = (text: string, minute: number, extra: Partial<ExportedMessage> = {}): ExportedMessage => ({
  role: 'user', content: [...(extra.image ? [{ type: 'image' as const }] : []), { type: 'text', text }], timestamp: at(minute), status: 'complete', ...extra,
});
const answer = (text: string, minute: number, extra: Partial<ExportedMessage> = {}): ExportedMessage => ({
  role: 'assistant', content: [{ type: 'text', text }], timestamp: at(minute), status: 'complete', ...extra,
});
const session = (title: string, history: ExportedMessage[]): ExportedSession => ({
  session_id: 's-1', title, created_at: at(0), updated_at: at(59), image_in_context: null, history,
});
const md = (s: ExportedSession) => chatMarkdown(s, images, { formatTime: (iso) => `at ${iso.slice(11, 16)}` });
const html = (text: string) => marked.parse(text, { async: false });
const count = (text: string, re: RegExp) => text.match(re)?.length ?? 0;

describe('chatMarkdown', () => {
  it('the title, then each turn under its role and time, the photo inline as a data URL', () => {
    const out = md(session('Harbour', [user('What boat?', 1, { image: HASH }), answer('A **ferry**.', 2)]));
    expect(out).toBe(`# Harbour\n\n## You · at 18:01\n\n![photo 1](data:image/png;base64,${PNG})\n\nWhat boat?\n\n## Assistant · at 18:02\n\nA **ferry**.\n`);
    const page = html(out);
    expect(page).toContain(`<img src="data:image/png;base64,${PNG}" alt="photo 1">`);
    expect(page).toContain('<strong>ferry</strong>');
  });

  it('special characters in the title stay text in one heading', () => {
    const page = html(md(session('Boats & <ships> *draft* #1 | $5 [x](y)\nsecond line', [])));
    expect(page).toBe('<h1>Boats &amp; &lt;ships&gt; *draft* #1 | $5 [x](y) second line</h1>\n');
  });

  it('what the user typed reads as typed: no heading, list, code, quote or HTML of its own, line breaks kept', () => {
    const typed = '# not a heading\n- not a list\n> not a quote\n1. not numbered\n```js\nnot code\n```\n<b>not bold</b> 2 * 3 * 4 = _24_\n    indented\n\n---\nlast \\ line';
    const out = md(session('t', [user(typed, 1), answer('ok', 2)]));
    const page = html(out);
    expect(count(page, /<h1>/g)).toBe(1);
    expect(count(page, /<h2>/g)).toBe(2);
    expect(page).not.toMatch(/<(ul|ol|blockquote|pre|code|b|em|hr)>/);
    // Every line is there, as text, in order.
    const text = page.replace(/<br>/g, '\n').replace(/<[^>]+>/g, '').replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/&quot;/g, '"');
    expect(text).toContain(typed.replace('\n\n---', '\n---').replace(/\n\n/g, '\n'));
  });

  it('Arabic (right-to-left) text goes in unchanged', () => {
    const out = md(session('قارب في الميناء', [user('ما هذا القارب؟', 1), answer('هذا **قارب** صيد صغير.\n\n- شراع\n- مجداف', 2)]));
    expect(out).toContain('# قارب في الميناء\n');
    expect(out).toContain('\n\nما هذا القارب؟\n\n');
    expect(out).toContain('\n\nهذا **قارب** صيد صغير.\n\n- شراع\n- مجداف\n');
    expect(html(out)).toContain('<li>شراع</li>');
  });

  it('code fences inside answers are kept; one the model left open is closed, so the next turns stay turns', () => {
    const fenced = 'Here:\n\n```python\nprint("# hi")\n```\n\nDone.';
    const open = 'Start:\n~~~~js\nlet x = 1; // ``` inside\n```\nstill code';
    const out = md(session('t', [user('q', 1), answer(fenced, 2), user('more', 3), answer(open, 4), user('last', 5)]));
    expect(out).toContain(`\n\n${fenced}\n\n`);
    expect(out).toContain(`\n\n${open}\n~~~~\n\n## You · at 18:05`);
    const page = html(out);
    expect(page).toContain('<pre><code class="language-python">print(&quot;# hi&quot;)\n</code></pre>');
    expect(count(page, /<h2>/g)).toBe(5);
    expect(closeFences('```\ncode\n```')).toBe('```\ncode\n```');
    expect(closeFences('````\n```\n')).toBe('````\n```\n````');
  });

  it('a stopped, failed, interrupted or cut-off answer says so in italics', () => {
    const out = md(session('t', [
      user('a', 1), answer('Half', 2, { status: 'stopped' }),
      user('b', 3), answer('', 4, { status: 'error', error: { name: 'EngineError', message: 'The model *stopped* working.' } }),
      user('c', 5), answer('Cut', 6, { details: { model: 'm', backend: 'local', finishReason: 'length' } }),
      user('d', 7), answer('Gone', 8, { status: 'interrupted' }),
      user('e', 9), answer('Whole', 10, { details: { model: 'm', backend: 'local', finishReason: 'stop' } }),
    ]));
    const page = html(out);
    expect(page).toContain('<p>Half</p>\n<p><em>Stopped before the end.</em></p>');
    expect(page).toContain('<p><em>This answer failed: The model *stopped* working.</em></p>');
    expect(page).toContain('<p>Cut</p>\n<p><em>Cut off at the length limit.</em></p>');
    expect(page).toContain('<em>Interrupted: the page was closed while this answer was being written.</em>');
    expect(page).toMatch(/<p>Whole<\/p>\n$/);
  });

  it('says when turns have other versions (the JSON export keeps them); a photo not in the file is named', () => {
    const out = md(session('t', [user('q', 1, { image: 'c'.repeat(64) }), answer('two', 2, { versions: [{ content: [], timestamp: at(1) }], version: 1 })]));
    expect(out).toContain('*Other versions of some turns are not shown here; the JSON export keeps them.*');
    expect(out).toContain('*Photo 1 is not in this export.*');
  });

  it('times are local by default', () => {
    const out = chatMarkdown(session('t', [user('q', 1)]), {});
    expect(out).toContain(`## You · ${new Date(at(1)).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}\n`);
  });

  it('escapeText keeps leading spaces and breaks', () => {
    expect(escapeText('a\n  b\n\n\n\nc')).toBe('a\\\n&nbsp;&nbsp;b\n\nc');
  });
});

describe('export file names', () => {
  const day = new Date(2026, 11, 8);
  it.each([
    ['Harbour', 'glimpse-chat-harbour-2026-12-08.md'],
    ['Boats/ships: a "draft"? <1> ..\\x', 'glimpse-chat-boats-ships-a-draft-1-x-2026-12-08.md'],
    ['قارب في الميناء', 'glimpse-chat-قارب-في-الميناء-2026-12-08.md'],
    ['Café crème', 'glimpse-chat-café-crème-2026-12-08.md'],
    ['\u202egpj.exe', 'glimpse-chat-gpj-exe-2026-12-08.md'],
    ['🚢 ...', 'glimpse-chat-chat-2026-12-08.md'],
    ['x'.repeat(100), `glimpse-chat-${'x'.repeat(40)}-2026-12-08.md`],
  ])('%s → %s', (title, name) => {
    expect(exportFileName(day, title, 'md')).toBe(name);
  });
  it('JSON names are as before', () => {
    expect(exportFileName(day)).toBe('glimpse-chats-2026-12-08.json');
    expect(exportFileName(day, 'Harbour')).toBe('glimpse-chat-harbour-2026-12-08.json');
  });
});
