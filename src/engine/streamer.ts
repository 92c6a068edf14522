/**
 * The answer's text as it is generated, one decode per token. transformers.js's TextStreamer decodes every
 * token held since the last newline again at each new token (an answer without newlines costs O(n²)
 * decodes, a 512-token answer about 130,000 token decodes) and holds text back to word boundaries; this
 * decodes only the tokens not yet shown, usually one. A token that ends inside a character (byte-level BPE
 * splits UTF-8 sequences) is held until the character is complete, so each piece is whole characters and
 * the pieces add up to the decode of the whole answer.
 */

interface Decoder {
  decode(ids: bigint[], options: { skip_special_tokens: boolean }): string;
}

export interface TokenStreamerOptions {
  /** Each new piece of text, in order. */
  onText: (piece: string) => void;
  /** Each generated token, before its text is known (counts, the first-token time). */
  onTokenId?: () => void;
}

/** Tokens held at most while their text ends inside a character: UTF-8 has at most 4 bytes per character. */
const MAX_HELD = 4;

/** The streamer generate() calls: put() with the prompt first, then with each new token; end() at the end. */
export class TokenStreamer {
  private prompt = true;
  private held: bigint[] = [];

  constructor(
    private readonly tokenizer: Decoder,
    private readonly opts: TokenStreamerOptions,
  ) {}

  put(value: bigint[][]): void {
    if (this.prompt) {
      this.prompt = false;
      return;
    }
    this.opts.onTokenId?.();
    this.held.push(...(value[0] ?? []));
    const text = this.tokenizer.decode(this.held, { skip_special_tokens: true });
    if (text.endsWith('\uFFFD') && this.held.length < MAX_HELD) return;
    this.held = [];
    if (text) this.opts.onText(text);
  }

  end(): void {
    const text = this.held.length ? this.tokenizer.decode(this.held, { skip_special_tokens: true }) : '';
    this.held = [];
    this.prompt = true;
    if (text) this.opts.onText(text);
  }
}
