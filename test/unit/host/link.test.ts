// Prompt linking: locating a prompt, offset mapping through JSON escapes, token lookup, edits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenSpan } from '../../../protocol';
import { findPrompts } from '../../../src/prompts/discovery';
import { rawOffsets } from '../../../src/prompts/json';
import { applyChange, docToPromptOffset, isPromptIntact, locatePrompt, promptToDocOffset, tokenIndexAt } from '../../../src/prompts/link';

/** Word-and-space tokens with offsets, plus a zero-width BOS token first, like a real tokenizer's spans. */
function tokensOf(text: string): TokenSpan[] {
  const spans: TokenSpan[] = [{ id: 1, text: '<s>', start: 0, end: 0 }];
  for (const m of text.matchAll(/\s*\S+|\s+/g)) spans.push({ id: spans.length + 1, text: m[0], start: m.index!, end: m.index! + m[0].length });
  return spans;
}

describe('locatePrompt', () => {
  const doc = 'header\n```prompt\nOnce upon a time\n```\nOnce upon a time\n';

  it('finds the prompt verbatim at its offset', () => {
    const start = doc.indexOf('Once');
    assert.deepEqual(locatePrompt(doc, start, 'Once upon a time'), { start, end: start + 16 });
  });

  it('relinks to the nearest occurrence when the offset moved', () => {
    const first = doc.indexOf('Once');
    const second = doc.lastIndexOf('Once');
    assert.equal(locatePrompt(doc, first + 3, 'Once upon a time')?.start, first);
    assert.equal(locatePrompt(doc, second - 2, 'Once upon a time')?.start, second);
  });

  it('is undefined when the prompt is gone', () => {
    assert.equal(locatePrompt(doc, 5, 'Twice upon a time'), undefined);
    assert.equal(locatePrompt(doc, 5, ''), undefined);
  });

  it('maps a JSONL prompt with escapes back to the raw literal', () => {
    const line = '{"prompt": "She said \\"hi\\"\\n\\u00e9t\\u00e9 ok"}';
    const [p] = findPrompts('/w/a.jsonl', line);
    const loc = locatePrompt(line, p.start, p.text)!;
    assert.equal(loc.start, p.start);
    assert.equal(loc.end, p.end);
    assert.ok(loc.offsets);
    // Every decoded character sits at its raw offset (unescaped characters are identical there).
    for (let i = 0; i < p.text.length; i++) {
      const rawAt = line.slice(loc.start + loc.offsets![i]);
      const decodedHere = JSON.parse(`"${rawAt.slice(0, rawAt[0] === '\\' ? (rawAt[1] === 'u' ? 6 : 2) : 1)}"`);
      assert.equal(decodedHere, p.text[i], `character ${i}`);
    }
    // Round trip prompt offset -> document offset -> prompt offset.
    for (let i = 0; i <= p.text.length; i++) assert.equal(docToPromptOffset(loc, promptToDocOffset(loc, i)), i);
    // Found again by search when the offset is off.
    assert.deepEqual(locatePrompt(line, 0, p.text), loc);
  });
});

describe('rawOffsets', () => {
  it('maps each decoded character to its raw position', () => {
    assert.deepEqual(rawOffsets('a\\nb\\u0041c'), [0, 1, 3, 4, 10, 11]);
    assert.deepEqual(rawOffsets(''), [0]);
  });
});

describe('tokenIndexAt', () => {
  const text = 'Once upon a time';
  const tokens = tokensOf(text);

  it('returns the token covering each character and never the zero-width BOS', () => {
    for (let offset = 0; offset < text.length; offset++) {
      const i = tokenIndexAt(tokens, offset)!;
      assert.ok(tokens[i].start <= offset && offset < tokens[i].end, `offset ${offset}`);
      assert.notEqual(i, 0);
    }
  });

  it('returns the token ending at the offset for a cursor just after it, null outside', () => {
    assert.equal(tokenIndexAt(tokens, text.length), tokens.length - 1);
    assert.equal(tokenIndexAt(tokens, text.length + 5), null);
    assert.equal(tokenIndexAt([], 0), null);
  });
});

describe('applyChange', () => {
  const loc = { start: 10, end: 20 };

  it('shifts for edits before the prompt', () => {
    assert.deepEqual(applyChange(loc, { offset: 0, removed: 0, inserted: 5 }), { loc: { start: 15, end: 25 }, touched: false });
    assert.deepEqual(applyChange(loc, { offset: 2, removed: 8, inserted: 1 }), { loc: { start: 3, end: 13 }, touched: false });
  });

  it('ignores edits after the prompt', () => {
    assert.deepEqual(applyChange(loc, { offset: 21, removed: 3, inserted: 0 }), { loc, touched: false });
  });

  it('marks edits inside, at the edges, or overlapping the prompt', () => {
    for (const change of [
      { offset: 15, removed: 1, inserted: 0 },
      { offset: 10, removed: 0, inserted: 1 },
      { offset: 20, removed: 0, inserted: 1 },
      { offset: 5, removed: 10, inserted: 0 },
      { offset: 18, removed: 10, inserted: 0 },
    ]) {
      assert.equal(applyChange(loc, change).touched, true, JSON.stringify(change));
    }
    assert.deepEqual(applyChange(loc, { offset: 15, removed: 0, inserted: 3 }).loc, { start: 10, end: 23 });
  });

  it('follows a sequence of edits like the document does', () => {
    let doc = 'aaaaaaaaaaPROMPTTEXTbbbb';
    let at = { start: 10, end: 20 };
    for (const c of [
      { offset: 0, removed: 0, inserted: 3 },
      { offset: 1, removed: 2, inserted: 0 },
      { offset: 25, removed: 0, inserted: 2 },
    ]) {
      doc = doc.slice(0, c.offset) + 'x'.repeat(c.inserted) + doc.slice(c.offset + c.removed);
      const r = applyChange(at, c);
      assert.equal(r.touched, false);
      at = r.loc;
      assert.equal(doc.slice(at.start, at.end), 'PROMPTTEXT');
    }
  });
});

describe('isPromptIntact', () => {
  it('is true only for exactly the prompt at the location, verbatim or as JSON content', () => {
    const doc = 'x Once upon a time y';
    const loc = { start: 2, end: 18 };
    assert.equal(isPromptIntact(doc, loc, 'Once upon a time'), true);
    // Typed at the end: the location grew, the text before it is unchanged, yet the prompt changed.
    const grown = applyChange(loc, { offset: 18, removed: 0, inserted: 6 });
    const edited = doc.slice(0, 18) + ' there' + doc.slice(18);
    assert.equal(grown.touched, true);
    assert.equal(isPromptIntact(edited, grown.loc, 'Once upon a time'), false);
    // Typed and deleted again (undo): intact.
    const undone = applyChange(grown.loc, { offset: 18, removed: 6, inserted: 0 });
    assert.equal(isPromptIntact(doc, undone.loc, 'Once upon a time'), true);
    const line = '{"prompt": "a\\nb"}';
    const [p] = findPrompts('/w/a.jsonl', line);
    assert.equal(isPromptIntact(line, { start: p.start, end: p.end }, 'a\nb'), true);
  });
});
