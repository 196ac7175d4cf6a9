// Tokenisation with @huggingface/tokenizers: ids checked against the llama2.c reference encoder
// (expected.json), character spans checked against the source text, BOS handling, chat template.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TokenSpan } from '../../../protocol';
import { findModelFiles } from '../../../native/model/files';
import { ModelTokenizer } from '../../../native/model/tokenizer';
import { EXPECTED, GENAI, STORIES, byteLevelTokenizerJson, modelDir, storiesSideFiles } from './helpers';

const stories = ModelTokenizer.load(findModelFiles(STORIES));
const llama = ModelTokenizer.load(findModelFiles(GENAI));

/**
 * Spans must be ordered, inside the text, and the distinct spans must tile the text: every character
 * belongs to exactly one token group and nothing is skipped.
 */
function assertTiles(text: string, tokens: TokenSpan[]): void {
  const distinct = tokens.filter((t, i) => t.end > t.start && !(i > 0 && tokens[i - 1].start === t.start && tokens[i - 1].end === t.end));
  let at = 0;
  for (const t of distinct) {
    assert.equal(t.start, at, `span [${t.start},${t.end}) of ${JSON.stringify(t.text)} should start at ${at} in ${JSON.stringify(text)}`);
    at = t.end;
  }
  assert.equal(at, text.length, `spans end at ${at}, text has ${text.length} characters`);
}

describe('tokenizer', () => {
  it('encodes the expected.json prompts like the llama2.c reference encoder (BOS first)', () => {
    for (const c of EXPECTED.cases) assert.deepEqual(stories.encode(c.prompt).ids, c.prompt_ids, c.prompt);
    assert.deepEqual(stories.encode('').ids, EXPECTED.bos_only.prompt_ids);
  });

  it("gives each token's span in the text", () => {
    for (const c of EXPECTED.cases) {
      const { tokens } = stories.encode(c.prompt);
      assert.deepEqual([tokens[0].start, tokens[0].end], [0, 0], 'BOS added by the post-processor has an empty span');
      for (const [i, t] of tokens.slice(1).entries()) {
        // the first word's leading space is SentencePiece's prefix space, not in the text
        const shown = i === 0 ? t.text.replace(/^ /, '') : t.text;
        assert.equal(c.prompt.slice(t.start, t.end), shown, `${c.prompt}: token ${t.id}`);
      }
      assertTiles(c.prompt, tokens);
    }
  });

  it('tiles text with repeated spaces, newlines, accents, CJK and emoji (byte-fallback tokens)', () => {
    const texts = [' Lily  and\nTom went 😀 home, é!', 'Ünïcödé 日本語 text', 'tabs\tand  spaces   end  ', '<s>literal special</s> x'];
    for (const tok of [stories, llama]) {
      for (const text of texts) assertTiles(text, tok.encode(text).tokens);
    }
    const { tokens } = stories.encode('a 😀 b');
    const emoji = tokens.filter((t) => t.text.startsWith('<0x'));
    assert.equal(emoji.length, 4, 'the emoji is four UTF-8 byte tokens');
    for (const t of emoji) assert.equal('a 😀 b'.slice(t.start, t.end).trim(), '😀');
    const literal = stories.encode('<s>hi').tokens;
    assert.deepEqual(literal.slice(0, 2).map((t) => [t.id, t.start, t.end]), [[1, 0, 0], [1, 0, 3]], 'a special token typed in the text has its span');
  });

  it('gives spans with a byte-level BPE tokenizer (GPT-2 family)', () => {
    const dir = modelDir({ 'tokenizer.json': JSON.stringify(byteLevelTokenizerJson()), 'tokenizer_config.json': '{"eos_token": "<|endoftext|>"}' });
    const files = { folder: dir, onnxFile: '', variants: {}, tokenizer: path.join(dir, 'tokenizer.json'), tokenizerConfig: path.join(dir, 'tokenizer_config.json') };
    const bpe = ModelTokenizer.load(files);
    const text = 'the cat  sat 😀 é\nthe<|endoftext|>';
    const { tokens } = bpe.encode(text);
    assertTiles(text, tokens);
    assert.deepEqual(tokens.slice(0, 3).map((t) => text.slice(t.start, t.end)), ['t', 'he', ' cat']);
    assert.deepEqual(tokens.slice(0, 3).map((t) => t.text), ['t', 'he', ' cat']);
    const emoji = tokens.filter((t) => text.slice(t.start, t.end).includes('😀'));
    assert.equal(emoji.length, 4, 'four byte tokens share the emoji');
    assert.equal(text.slice(tokens.at(-1)!.start, tokens.at(-1)!.end), '<|endoftext|>');
    assert.equal(bpe.decode(tokens.map((t) => t.id)), text.replace('<|endoftext|>', ''));
  });

  it('gives spans of given ids in their decoded text', () => {
    for (const c of EXPECTED.cases) {
      const { text, tokens } = stories.fromIds(c.prompt_ids);
      assert.equal(text, `<s> ${c.prompt}`);
      assert.deepEqual(tokens.map((t) => text.slice(t.start, t.end)), tokens.map((t) => t.text));
      assertTiles(text, tokens);
    }
  });

  it('shows tokens as they read after other text', () => {
    const top = EXPECTED.cases.flatMap((c) => c.last_prompt_position_top5);
    for (const t of top) assert.equal(stories.tokenText(t.id), t.token);
    assert.equal(stories.tokenText(243), '<0xF0>', 'a partial UTF-8 byte shows its piece');
  });

  it('follows add_bos_token in tokenizer_config.json', () => {
    const noBos = modelDir({
      ...storiesSideFiles(),
      'onnx/model.onnx': { link: path.join(STORIES, 'onnx/model.onnx') },
      'tokenizer_config.json': JSON.stringify({ ...require(path.join(STORIES, 'tokenizer_config.json')), add_bos_token: false }),
    });
    const tok = ModelTokenizer.load(findModelFiles(noBos));
    assert.deepEqual(tok.encode('Once upon a time').ids, EXPECTED.cases[0].prompt_ids.slice(1));
  });

  it('applies the chat template with spans into the user text', () => {
    const text = 'Hi there';
    const rendered = llama.renderChat([{ role: 'user', content: text }]);
    assert.equal(rendered, '<s>[INST] Hi there [/INST]');
    const { ids, tokens } = llama.encode(text, { chatTemplate: true });
    assert.deepEqual(ids, llama.encode(rendered.slice('<s>'.length)).ids, 'same ids as the rendered prompt (its <s> is the BOS)');
    const words = tokens.filter((t) => t.end > t.start).map((t) => text.slice(t.start, t.end));
    assert.deepEqual(words, ['Hi', ' there']);
    // the template strips the text; a word that also occurs in the template is still found in the text
    const padded = '  Say INST ';
    const chat = llama.encode(padded, { chatTemplate: true });
    assert.equal(llama.renderChat([{ role: 'user', content: padded }]), '<s>[INST] Say INST [/INST]');
    assert.deepEqual(chat.tokens.filter((t) => t.end > t.start).map((t) => padded.slice(t.start, t.end)).join(''), 'Say INST');
    assert.ok(chat.tokens.filter((t) => t.end > t.start).every((t) => t.start >= 2));
    assert.throws(() => stories.encode(text, { chatTemplate: true }), { code: 'BAD_REQUEST', message: /no chat template/ });
  });

  it('refuses a broken tokenizer.json', () => {
    const dir = modelDir({ ...storiesSideFiles(), 'onnx/model.onnx': { link: path.join(STORIES, 'onnx/model.onnx') }, 'tokenizer.json': '{"model": ' });
    assert.throws(() => ModelTokenizer.load(findModelFiles(dir)), { code: 'MISSING_TOKENIZER', message: /tokenizer\.json is not valid JSON/ });
  });
});
