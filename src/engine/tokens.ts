/**
 * The canonical tokenization of a conversation: what the model reads for the stored messages, computed the
 * same way on every path (fresh start, cached follow-up, reload, server restart), so a cached answer can
 * equal a fresh one token for token.
 *
 * Two rules:
 *  - What people and the model wrote is plain text. A user who types `<image>` or `<end_of_utterance>` gets
 *    the characters, never the control token (llama.cpp's `parse_special = false` for user text). Only the
 *    chat template's own markup (`<|im_start|>`, `<end_of_utterance>`, the `<image>` placeholder) becomes
 *    control tokens.
 *  - Otherwise the ids equal the tokenizer's own encoding of the whole rendered prompt: the text between two
 *    control tokens is encoded in one piece, as Hugging Face tokenizers do after splitting off added tokens.
 */
import { ModelLoadError } from '../errors';

/** Half-open character range [start, end). */
export type Span = readonly [number, number];

/** A rendered prompt and the ranges of it that are message text (plain, never control tokens). */
export interface RenderedPrompt {
  text: string;
  plain: Span[];
}

/** The tokenizer operations the canonical encoding needs. */
export interface PromptTokenizer {
  /** Ids of `text` read as plain text: no added-token parsing. */
  encodePlain(text: string): number[];
  /** Every added token the tokenizer splits out of text, by content. */
  controlTokens: ReadonlyMap<string, number>;
  /** Ids the tokenizer adds before every text (a BOS), usually none for SmolVLM. */
  prefix: readonly number[];
}

interface TextPart {
  type: string;
  text?: string;
}
interface TemplateMessage {
  role: string;
  content: TextPart[];
}

// Private-use code points: the chat template never writes them, and message text is not in the render.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const SENTINEL = /\uE000(\d+)\uE001/g;

/**
 * Renders the chat template with every text part replaced by a sentinel, then puts the texts back and
 * records where they landed. The template only copies text parts verbatim, so this equals rendering the
 * messages themselves; the difference is that we know which characters are message text.
 */
export function renderPrompt<M extends TemplateMessage>(messages: M[], render: (messages: M[]) => string): RenderedPrompt {
  const texts: string[] = [];
  const masked = messages.map((m) => ({
    ...m,
    content: m.content.map((p) => (p.type === 'text' ? { ...p, text: `${OPEN}${texts.push(p.text ?? '') - 1}${CLOSE}` } : p)),
  }));
  const template = render(masked);
  const plain: Span[] = [];
  let text = '';
  let from = 0;
  for (const m of template.matchAll(SENTINEL)) {
    text += template.slice(from, m.index);
    const t = texts[Number(m[1])] ?? '';
    if (t.length > 0) plain.push([text.length, text.length + t.length]);
    text += t;
    from = m.index + m[0].length;
  }
  return { text: text + template.slice(from), plain };
}

/**
 * The prompt cut open at the end of its last message's text, as Hugging Face's `continue_final_message`
 * does: the template's end-of-turn markup after it goes, so the model goes on writing that message (Continue
 * for an answer cut at the token limit). Null when the last message has no text to go on from.
 */
export function openEnded(prompt: RenderedPrompt, lastText: string): RenderedPrompt | null {
  const last = prompt.plain.at(-1);
  if (!last || lastText.length === 0 || prompt.text.slice(last[0], last[1]) !== lastText) return null;
  return { text: prompt.text.slice(0, last[1]), plain: prompt.plain };
}

/** The control tokens the tokenizer would split out, longest first (as its splitter matches). */
function controlPattern(tok: PromptTokenizer): RegExp {
  const escaped = [...tok.controlTokens.keys()]
    .sort((a, b) => b.length - a.length)
    .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(escaped.join('|'), 'g');
}

const patterns = new WeakMap<PromptTokenizer, RegExp>();

interface ControlMatch {
  start: number;
  end: number;
  token: string;
}

/** Control tokens in the template's own text (never inside a plain span), in order. */
function structuralControls(tok: PromptTokenizer, prompt: RenderedPrompt): ControlMatch[] {
  let pattern = patterns.get(tok);
  if (!pattern) patterns.set(tok, (pattern = controlPattern(tok)));
  const out: ControlMatch[] = [];
  const scan = (start: number, end: number) => {
    const region = prompt.text.slice(start, end);
    for (const m of region.matchAll(pattern)) {
      out.push({ start: start + m.index, end: start + m.index + m[0].length, token: m[0] });
    }
  };
  let at = 0;
  for (const [s, e] of prompt.plain) {
    scan(at, s);
    at = e;
  }
  scan(at, prompt.text.length);
  return out;
}

export interface EncodedPrompt {
  ids: number[];
  /** Token index where the expansion of the template's first `<image>` starts, or -1. */
  imageAt: number;
}

/**
 * Encodes a rendered prompt canonically. `image` replaces the template's `<image>` placeholder with the
 * processor's expansion (tiles and global frame), itself template markup.
 */
export function encodePrompt(
  tok: PromptTokenizer,
  prompt: RenderedPrompt,
  image?: { placeholder: string; expansion: string },
): EncodedPrompt {
  const ids = [...tok.prefix];
  let imageAt = -1;
  let from = 0;
  for (const c of structuralControls(tok, prompt)) {
    pushPlain(tok, ids, prompt.text.slice(from, c.start));
    if (image && c.token === image.placeholder && imageAt < 0) {
      imageAt = ids.length;
      ids.push(...encodePrompt({ ...tok, prefix: [] }, { text: image.expansion, plain: [] }).ids);
    } else {
      ids.push(tok.controlTokens.get(c.token)!);
    }
    from = c.end;
  }
  pushPlain(tok, ids, prompt.text.slice(from));
  return { ids, imageAt };
}

function pushPlain(tok: PromptTokenizer, ids: number[], text: string): void {
  if (text.length > 0) ids.push(...tok.encodePlain(text));
}

/** The parts of @huggingface/tokenizers' Tokenizer the plain encoding uses (public fields of that class). */
interface HfTokenizerCore {
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: ((text: string, options?: { section_index?: number }) => string[]) | null;
  model: ((tokens: string[]) => string[]) & { tokens_to_ids: Map<string, number>; unk_token_id?: number };
  get_added_tokens_decoder(): Map<number, { content: string }>;
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
}

/**
 * Adapts a transformers.js tokenizer (its `_tokenizer` is the @huggingface/tokenizers instance). Plain
 * encoding runs the tokenizer's own normalizer, pre-tokenizer and model, skipping only the added-token split.
 */
export function adaptTokenizer(tokenizer: unknown): PromptTokenizer {
  const core = (tokenizer as { _tokenizer?: HfTokenizerCore } | null)?._tokenizer;
  if (!core || typeof core.model !== 'function' || !(core.model.tokens_to_ids instanceof Map)) {
    throw new ModelLoadError('This tokenizer does not expose the parts Glimpse needs to keep typed text plain.');
  }
  const controlTokens = new Map<string, number>();
  for (const [id, t] of core.get_added_tokens_decoder()) controlTokens.set(t.content, id);
  const unk = core.model.unk_token_id ?? 0;
  const encodePlain = (text: string): number[] => {
    const normalized = core.normalizer ? core.normalizer(text) : text;
    const pieces = core.pre_tokenizer ? core.pre_tokenizer(normalized, { section_index: 0 }) : [normalized];
    return core.model(pieces).map((t) => core.model.tokens_to_ids.get(t) ?? unk);
  };
  return { encodePlain, controlTokens, prefix: core.encode('', { add_special_tokens: true }).ids };
}
