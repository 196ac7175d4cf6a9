// When a prompt could exceed layerlens.maxTokens without tokenizing it. Pure (no `vscode`).

/** Most tokens one UTF-16 code unit can become: 3 UTF-8 bytes as byte tokens, plus a word-start piece. */
const TOKENS_PER_CODE_UNIT = 4;
/** Special tokens (BOS/EOS) and similar fixed overhead. */
const FIXED_TOKENS = 16;

/**
 * False when `text` certainly has at most `max` tokens under byte-level or byte-fallback tokenizers
 * (so it needs no tokenizing to check); true when it must be tokenized. A chat template adds an
 * unknown number of tokens, so it always needs the check.
 */
export function mayExceedTokens(text: string, max: number, chatTemplate = false): boolean {
  return chatTemplate || text.length * TOKENS_PER_CODE_UNIT + FIXED_TOKENS > max;
}
