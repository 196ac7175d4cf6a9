// The demo data sets and workspace: probing CSVs are well formed (header, labels, groups, spans that point
// at what they claim), held-out stories are distinct, and the workspace prompts are ones the model can run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { CONFIG, DEMO_DATA, DEMO_WORKSPACE, loadTokenizer, readJsonl, type TaskCase } from './helpers';
import { findPrompts } from '../../../src/prompts/discovery';

type Row = { text: string; label: string; group: string; span: string };

function readCsv(name: string): Row[] {
  const text = fs.readFileSync(path.join(DEMO_DATA, name), 'utf8');
  assert.equal(text.split('\n')[0].trim(), 'text,label,group,span');
  return parse(text, { columns: true, skip_empty_lines: true }) as Row[];
}

function spanOf(row: Row): string {
  const [s, e] = row.span.split(':').map(Number);
  assert.ok(Number.isInteger(s) && Number.isInteger(e) && 0 <= s && s < e && e <= row.text.length, row.span);
  return row.text.slice(s, e);
}

function counts(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

describe('demo data', () => {
  it('gender probe set: female/male, grouped by name, span = the name, text ends before the pronoun', () => {
    const rows = readCsv('probe-gender.csv');
    assert.ok(rows.length >= 200);
    const labels = counts(rows.map((r) => r.label));
    assert.deepEqual([...labels.keys()].sort(), ['female', 'male']);
    assert.ok(Math.min(...labels.values()) > rows.length * 0.35, 'roughly balanced');
    const genderOfName = new Map<string, string>();
    for (const r of rows) {
      assert.equal(spanOf(r), r.group);
      assert.ok(r.text.endsWith('Then'));
      assert.doesNotMatch(r.text, /\b(he|she|his|her|He|She|His|Her|girl|boy)\b/, 'only the name tells the gender');
      assert.equal(genderOfName.get(r.group) ?? r.label, r.label, `name ${r.group} has one gender`);
      genderOfName.set(r.group, r.label);
    }
    assert.ok(genderOfName.size >= 10, 'enough names for grouped folds');
  });

  it('sentiment probe set: happy/sad, grouped by the mood word it contains', () => {
    const rows = readCsv('probe-sentiment.csv');
    assert.ok(rows.length >= 200);
    assert.deepEqual([...counts(rows.map((r) => r.label)).keys()].sort(), ['happy', 'sad']);
    const moodOfWord = new Map<string, string>();
    for (const r of rows) {
      assert.equal(spanOf(r), r.text);
      assert.match(r.text, new RegExp(`\\b${r.group}\\b`));
      assert.equal(moodOfWord.get(r.group) ?? r.label, r.label, `word ${r.group} has one mood`);
      moodOfWord.set(r.group, r.label);
    }
    assert.ok(moodOfWord.size >= 8);
  });

  it('held-out stories are distinct and fit the context', () => {
    const stories = readJsonl<{ text: string }>(path.join(DEMO_DATA, 'heldout.jsonl')).map((r) => r.text);
    assert.equal(new Set(stories).size, stories.length);
    const tok = loadTokenizer();
    const max = Math.max(...stories.map((s) => tok.encode(s).ids.length));
    assert.ok(max < 256, `longest held-out story has ${max} tokens`);
  });

  it('the demo workspace has prompt files for each task and a prompts.jsonl', () => {
    const files = fs.readdirSync(DEMO_WORKSPACE);
    for (const f of ['pronoun.prompt.md', 'colour.prompt.md', 'counting.prompt.md', 'mood.prompt.md', 'README.md', 'prompts.jsonl']) {
      assert.ok(files.includes(f), f);
    }
    const tok = loadTokenizer();
    for (const f of files.filter((x) => x.endsWith('.prompt.md'))) {
      const text = fs.readFileSync(path.join(DEMO_WORKSPACE, f), 'utf8').trim();
      const ids = tok.encode(text).ids;
      assert.ok(ids.length > 3 && ids.every((id) => id > 0 && id < CONFIG.vocab_size), f);
    }
    const rows = readJsonl<TaskCase>(path.join(DEMO_WORKSPACE, 'prompts.jsonl'));
    assert.deepEqual([...counts(rows.map((r) => r.task)).keys()].sort(), ['colour', 'count', 'pronoun']);
    assert.ok(rows.every((r) => typeof r.prompt === 'string' && r.prompt.length > 0));
  });

  it('demo-prompts.md ("Open Demo Prompts") has every prompt file as a ```prompt block the CodeLens finds', () => {
    const md = fs.readFileSync(path.join(DEMO_WORKSPACE, 'demo-prompts.md'), 'utf8');
    const found = findPrompts('/w/demo-prompts.md', md).map((p) => p.text.trim());
    const files = fs.readdirSync(DEMO_WORKSPACE).filter((x) => x.endsWith('.prompt.md')).sort();
    assert.equal(found.length, files.length);
    for (const f of files) assert.ok(found.includes(fs.readFileSync(path.join(DEMO_WORKSPACE, f), 'utf8').trim()), f);
  });
});
