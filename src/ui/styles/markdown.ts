import { css } from 'lit';

/**
 * How an answer's markdown looks: code blocks with a bar and syntax colours (highlight.js classes; every
 * colour keeps 4.5:1 on the code background in both schemes), block quotes with a bar, tables that scroll
 * sideways instead of breaking header words.
 */
export const markdownStyles = css`
  .md.plain {
    white-space: pre-wrap;
  }
  .md > :first-child {
    margin-top: 0;
  }
  .md > :last-child {
    margin-bottom: 0;
  }
  .md a {
    color: var(--accent);
  }
  /* A model's "#" is a section of an answer, not a page title: a little above the text, on a phone too. */
  .md :is(h1, h2, h3, h4, h5, h6) {
    font-size: 1em;
    line-height: 1.3;
    margin: 0.9em 0 0.35em;
    overflow-wrap: anywhere;
  }
  .md h1 {
    font-size: 1.25em;
  }
  .md h2 {
    font-size: 1.15em;
  }
  .md h3 {
    font-size: 1.05em;
  }
  .md code {
    font-family: var(--mono);
    font-size: 0.88em;
    background: var(--code-bg);
    padding: 0.1em 0.3em;
    border-radius: 4px;
  }
  .md .code-block {
    border: 1px solid var(--border);
    border-radius: var(--radius-sm);
    overflow: hidden;
    margin: 0.6rem 0;
    background: var(--code-bg);
  }
  .md .code-bar {
    display: flex;
    justify-content: space-between;
    align-items: center;
    padding: 0.2rem 0.3rem 0.2rem 0.7rem;
    font-size: 0.78rem;
    color: var(--text-muted);
    border-bottom: 1px solid var(--border);
  }
  .md .copy-code {
    border: 1px solid var(--border);
    background: var(--surface);
    border-radius: 6px;
    padding: 0.15rem 0.55rem;
    min-height: 28px;
    font-size: 0.78rem;
  }
  .md pre {
    margin: 0;
    padding: 0.7rem;
    overflow-x: auto;
    overflow-wrap: normal;
  }
  .md pre code {
    background: none;
    padding: 0;
  }
  .md blockquote {
    margin: 0.6rem 0;
    padding-block: 0.1rem;
    padding-inline: 0.9rem 0;
    border-inline-start: 3px solid var(--border);
    color: var(--text-muted);
  }
  .md .table-wrap {
    overflow-x: auto;
    margin: 0.6rem 0;
  }
  .md table {
    border-collapse: collapse;
  }
  .md th,
  .md td {
    border: 1px solid var(--border);
    padding: 0.25rem 0.5rem;
    overflow-wrap: normal;
    word-break: normal;
  }
  .md th {
    background: var(--bg-soft);
    text-align: start;
    white-space: nowrap;
  }
  .hljs-keyword,
  .hljs-selector-tag,
  .hljs-doctag {
    color: light-dark(#a0259e, #d7a6f5);
  }
  .hljs-string,
  .hljs-regexp,
  .hljs-addition {
    color: light-dark(#2a6e10, #a5d6a7);
  }
  .hljs-number,
  .hljs-literal,
  .hljs-symbol {
    color: light-dark(#8a5a00, #f0c674);
  }
  .hljs-comment,
  .hljs-quote {
    color: light-dark(#5c6370, #9aa3ae);
    font-style: italic;
  }
  .hljs-title,
  .hljs-section,
  .hljs-name {
    color: light-dark(#1c55b0, #8fb4ff);
  }
  .hljs-built_in,
  .hljs-type,
  .hljs-class .hljs-title {
    color: light-dark(#9a4205, #ffb877);
  }
  .hljs-attr,
  .hljs-attribute,
  .hljs-variable,
  .hljs-template-variable,
  .hljs-params {
    color: light-dark(#8a3b3b, #f2a7a7);
  }
  .hljs-meta,
  .hljs-deletion {
    color: light-dark(#b3261e, #ff9c94);
  }
`;
