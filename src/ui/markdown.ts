import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { highlightCode } from './highlight';

/**
 * Model output → safe DOM. marked renders markdown to HTML (GitHub flavour, line breaks kept), DOMPurify
 * removes scripts, event handlers and javascript: URLs, then links are made to open in a new tab without an
 * opener, each code block gets syntax colours and a copy button, and each table a box that scrolls sideways.
 * Used for assistant turns only: user text is shown as text.
 */
const marked = new Marked({ gfm: true, breaks: true, async: false });

const FORBID_TAGS = ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'];

export function renderMarkdown(text: string): DocumentFragment {
  const html = marked.parse(text) as string;
  const fragment = DOMPurify.sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    // HTML only: inline SVG/MathML could still fetch (an SVG <image href>), bypassing the img rule below.
    USE_PROFILES: { html: true },
    FORBID_TAGS,
    FORBID_ATTR: ['style'],
    ALLOW_DATA_ATTR: false,
  });
  for (const a of fragment.querySelectorAll('a')) {
    a.setAttribute('target', '_blank');
    a.setAttribute('rel', 'noopener noreferrer');
  }
  // Remote images would leak that a chat happened (and what it was about); show their alt text instead.
  for (const img of fragment.querySelectorAll('img')) {
    const alt = img.getAttribute('alt') ?? '';
    img.replaceWith(document.createTextNode(alt ? `[image: ${alt}]` : '[image]'));
  }
  for (const table of fragment.querySelectorAll('table')) {
    const wrap = document.createElement('div');
    wrap.className = 'table-wrap';
    table.replaceWith(wrap);
    wrap.append(table);
  }
  for (const pre of fragment.querySelectorAll('pre')) {
    const wrap = document.createElement('div');
    wrap.className = 'code-block';
    const code = pre.querySelector('code');
    const named = /language-([\w+-]+)/.exec(code?.className ?? '')?.[1];
    const lang = (code ? highlightCode(code, named?.toLowerCase()) : null) ?? named;
    const bar = document.createElement('div');
    bar.className = 'code-bar';
    const label = document.createElement('span');
    label.textContent = lang ?? 'code';
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'copy-code';
    copy.textContent = 'Copy';
    copy.setAttribute('aria-label', `Copy ${lang ?? ''} code`.replace(/\s+/g, ' '));
    bar.append(label, copy);
    pre.replaceWith(wrap);
    wrap.append(bar, pre);
    pre.tabIndex = 0; // long lines scroll: keyboard users can scroll it too
    pre.dir = 'ltr'; // code reads left to right, in an Arabic or Hebrew answer too
  }
  // Each paragraph, list, heading, quote and table takes its direction from its own text (an Arabic answer
  // with an English line, or the other way round). Only the outermost: `dir=auto` skips descendants that have
  // a `dir`, so a quote or list marked inside would no longer see its own text.
  for (const block of fragment.querySelectorAll('p, ul, ol, h1, h2, h3, h4, h5, h6, blockquote, table')) {
    if (!block.parentElement?.closest('[dir]')) block.setAttribute('dir', 'auto');
  }
  return fragment;
}
