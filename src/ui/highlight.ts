/**
 * Syntax colours for code blocks: highlight.js (core plus the languages a chat about photos and code
 * meets most), loaded with the markdown renderer, never before the first answer. Its output escapes the
 * code; it is still sanitized to bare `<span class>`s before it reaches the page.
 */
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import kotlin from 'highlight.js/lib/languages/kotlin';
import markdown from 'highlight.js/lib/languages/markdown';
import php from 'highlight.js/lib/languages/php';
import python from 'highlight.js/lib/languages/python';
import ruby from 'highlight.js/lib/languages/ruby';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import swift from 'highlight.js/lib/languages/swift';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

const LANGUAGES = { bash, c, cpp, csharp, css, diff, go, java, javascript, json, kotlin, markdown, php, python, ruby, rust, sql, swift, typescript, xml, yaml };
for (const [name, lang] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, lang);

/** Long unlabelled blocks are left plain: guessing the language of a big block costs more than it gives. */
const AUTO_MAX_CHARS = 20_000;

/** Colours one `<code>` element in place; returns the language used (or null when left plain). */
export function highlightCode(code: HTMLElement, lang: string | undefined): string | null {
  const text = code.textContent ?? '';
  let result: { value: string; language?: string } | null = null;
  if (lang && hljs.getLanguage(lang)) result = hljs.highlight(text, { language: lang, ignoreIllegals: true });
  else if (!lang && text.length <= AUTO_MAX_CHARS) {
    const auto = hljs.highlightAuto(text);
    if (auto.relevance >= 5) result = auto;
  }
  if (!result) return null;
  code.innerHTML = DOMPurify.sanitize(result.value, { ALLOWED_TAGS: ['span'], ALLOWED_ATTR: ['class'] });
  code.classList.add('hljs');
  return result.language ?? lang ?? null;
}
