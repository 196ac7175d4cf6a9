// The no-tokenize shortcut of the maxTokens check must never let a too-long prompt through: checked
// with the real tokenizers of the shared models (SentencePiece with byte fallback, 512 and 32000 pieces).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { mayExceedTokens } from '../../../src/prompts/limits';

const models = resolve(__dirname, '../../../../shared/models');
const names = ['stories260K', 'tiny-random-llama-genai-builder-fp16'];

/** Deterministic strings over ASCII, Latin, CJK, combining marks, emoji (surrogate pairs) and whitespace. */
function samples(): string[] {
  const fixed = ['Once upon a time', '🙂🙂🙂', '漢字かな交じり文', 'ﷺ', ' \t\n  x', 'e\u0301', '\u0000\u0001', '\uFFFF', ''];
  const ranges = [[0x20, 0x7e], [0xa0, 0x24f], [0x300, 0x36f], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0x1f300, 0x1faff], [0xe000, 0xf8ff]];
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  const random = Array.from({ length: 200 }, () => {
    let s = '';
    const n = 1 + Math.floor(rand() * 40);
    for (let i = 0; i < n; i++) {
      const [lo, hi] = ranges[Math.floor(rand() * ranges.length)];
      s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
    }
    return s;
  });
  return [...fixed, ...random];
}

describe('mayExceedTokens', { skip: !existsSync(models) && 'shared models not found' }, () => {
  for (const name of names) {
    it(`never skips the check for a prompt that is too long (${name})`, () => {
      const dir = join(models, name);
      const tok = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
      let skipped = 0;
      for (const text of samples()) {
        const n = tok.encode(text).ids.length;
        for (const max of [n - 1, n, n + 5, 4 * text.length + 16]) {
          if (max < 0 || mayExceedTokens(text, max)) continue;
          skipped++;
          assert.ok(n <= max, `${JSON.stringify(text)}: ${n} tokens > ${max}, yet the check was skipped`);
        }
      }
      assert.ok(skipped > 100, `the shortcut was taken ${skipped} times`);
    });
  }

  it('always checks with a chat template, and skips short plain prompts', () => {
    assert.equal(mayExceedTokens('hi', 512, true), true);
    assert.equal(mayExceedTokens('hi', 512), false);
    assert.equal(mayExceedTokens('x'.repeat(124), 512), false);
    assert.equal(mayExceedTokens('x'.repeat(125), 512), true);
  });
});
