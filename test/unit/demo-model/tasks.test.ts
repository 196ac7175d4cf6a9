// The demo model completes its planted tasks on held-out prompts (demo/data/tasks.jsonl, written by the
// generator from a seed never used for training): greedy decoding with the KV cache in onnxruntime-node.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEMO_DATA, demoSession, loadTokenizer, nextWord, readJsonl, type TaskCase } from './helpers';

const CASES_PER_TASK = 50;
const tasks = readJsonl<TaskCase>(path.join(DEMO_DATA, 'tasks.jsonl'));
const tok = loadTokenizer();

/** Share of the first held-out cases of `task` whose greedy next word passes `ok`. */
async function accuracy(task: TaskCase['task'], ok: (word: string, c: TaskCase) => boolean): Promise<{ rate: number; misses: string[] }> {
  const cases = tasks.filter((t) => t.task === task).slice(0, CASES_PER_TASK);
  assert.equal(cases.length, CASES_PER_TASK, `${task}: not enough held-out cases`);
  const s = await demoSession();
  const misses: string[] = [];
  for (const c of cases) {
    const word = await nextWord(s, tok, c.prompt);
    if (!ok(word, c)) misses.push(`…${c.prompt.slice(-50)} → ${JSON.stringify(word)} (want ${c.answer})`);
  }
  return { rate: 1 - misses.length / cases.length, misses };
}

const COLOURS = new Set(tasks.filter((t) => t.task === 'colour').map((t) => t.answer));

describe('demo model planted tasks (held-out, greedy)', () => {
  it(`continues "Then" with the pronoun matching the named character (>= 90% of ${CASES_PER_TASK})`, async () => {
    const { rate, misses } = await accuracy('pronoun', (word, c) => word === c.answer);
    assert.ok(rate >= 0.9, `${(rate * 100).toFixed(0)}% correct; misses:\n${misses.join('\n')}`);
  });

  it(`continues a count with the next number word (>= 90% of ${CASES_PER_TASK})`, async () => {
    const { rate, misses } = await accuracy('count', (word, c) => word === c.answer);
    assert.ok(rate >= 0.9, `${(rate * 100).toFixed(0)}% correct; misses:\n${misses.join('\n')}`);
  });

  it(`answers "What colour was the X? It was" with a colour word (>= 90% of ${CASES_PER_TASK})`, async () => {
    const { rate, misses } = await accuracy('colour', (word) => COLOURS.has(word));
    assert.ok(rate >= 0.9, `${(rate * 100).toFixed(0)}% colour words; misses:\n${misses.join('\n')}`);
  });

  it(`answers "What colour was the X? It was" with the colour given earlier (>= 90% of ${CASES_PER_TASK})`, async () => {
    const { rate, misses } = await accuracy('colour', (word, c) => word === c.answer);
    assert.ok(rate >= 0.9, `${(rate * 100).toFixed(0)}% correct; misses:\n${misses.join('\n')}`);
  });

  it('recalls the colour in the hard cases too: said only once far back, or with another colour in the context (>= 90% each)', async () => {
    const s = await demoSession();
    const cases = tasks.filter((t) => t.task === 'colour');
    const words = (prompt: string) => prompt.split(/[\s.,?]+/);
    const once = cases.filter((c) => words(c.prompt).filter((w) => w === c.answer).length === 1);
    const distracted = cases.filter((c) => words(c.prompt).some((w) => COLOURS.has(w) && w !== c.answer));
    for (const [name, slice] of [['said once', once], ['another colour in context', distracted]] as const) {
      assert.ok(slice.length >= 10, `${name}: only ${slice.length} held-out cases`);
      const misses: string[] = [];
      for (const c of slice) {
        const word = await nextWord(s, tok, c.prompt);
        if (word !== c.answer) misses.push(`…${c.prompt.slice(-60)} → ${JSON.stringify(word)} (want ${c.answer})`);
      }
      const rate = 1 - misses.length / slice.length;
      assert.ok(rate >= 0.9, `${name}: ${(rate * 100).toFixed(0)}% of ${slice.length} correct; misses:\n${misses.join('\n')}`);
    }
  });

  it('the held-out task answers are what the prompts imply (colour named in the prompt, pronoun matches, next number)', () => {
    const numbers = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
    for (const c of tasks) {
      if (c.task === 'colour') {
        const object = /What colour was the (\w+)\? It was$/.exec(c.prompt)![1];
        assert.match(c.prompt, new RegExp(`\\b${c.answer} ${object}\\b`), 'the colour is given with the object earlier');
      } else if (c.task === 'count') {
        const last = /(\w+),$/.exec(c.prompt)![1];
        assert.equal(numbers.indexOf(c.answer), numbers.indexOf(last) + 1);
      } else {
        assert.ok(c.prompt.endsWith('Then') && ['he', 'she'].includes(c.answer));
      }
    }
  });
});
