import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetError, formatFromPath, inspectDataset, parseDataset } from '../../../native/analyses/probe/dataset';

const spec = (format: 'csv' | 'tsv' | 'jsonl' | 'json', extra = {}) => ({ path: `d.${format}`, format, textColumn: 'text', labelColumn: 'label', ...extra });

test('CSV: BOM, CRLF, quoted commas, doubled quotes and embedded newlines', () => {
  const csv = '\uFEFFtext,label\r\n"She said ""hi"", then left",happy\r\n"two\r\nlines",sad\r\n\r\nplaé,happy\nmixed,sad\r\n';
  const ds = parseDataset(csv, spec('csv'));
  assert.deepEqual(ds.examples.map((e) => e.text), ['She said "hi", then left', 'two\r\nlines', 'plaé', 'mixed']);
  assert.deepEqual(ds.examples.map((e) => e.label), ['happy', 'sad', 'happy', 'sad']);
  assert.deepEqual(ds.examples.map((e) => e.line), [2, 3, 6, 7]);
  assert.deepEqual(ds.labels, ['happy', 'sad']);
  assert.deepEqual([...ds.y], [0, 1, 0, 1]);
  assert.equal(ds.hash.length, 64);
});

test('malformed rows are listed with line numbers and fail without consent', () => {
  const csv = 'text,label\nok one,a\n\nshort\nok two,b\n,a\ntoo,many,fields\nok three,a\n';
  assert.throws(() => parseDataset(csv, spec('csv')), (e: unknown) => {
    assert.ok(e instanceof DatasetError);
    assert.deepEqual(e.rows.map((r) => r.line), [4, 6, 7]);
    assert.match(e.message, /line 4/);
    return true;
  });
  const ds = parseDataset(csv, spec('csv', { skipMalformed: true }));
  assert.deepEqual(ds.examples.map((e) => e.text), ['ok one', 'ok two', 'ok three']);
  assert.deepEqual(ds.skipped.map((r) => r.line), [4, 6, 7]);
});

test('an unclosed quote is a clear error with its line', () => {
  assert.throws(() => parseDataset('text,label\n"open,a\n', spec('csv')), /not valid CSV.*Quote Not Closed/);
});

test('TSV, group and span columns', () => {
  const tsv = 'text\tlabel\tgroup\tspan\nthe cat sat\tanimal\tg1\t4:7\nthe car\tthing\tg2\t[4,7]\nbad span\tthing\tg3\t5:50\n';
  const ds = parseDataset(tsv, spec('tsv', { groupColumn: 'group', spanColumn: 'span', skipMalformed: true }), true);
  assert.deepEqual(ds.examples.map((e) => e.span), [[4, 7], [4, 7]]);
  assert.deepEqual(ds.examples.map((e) => e.group), ['g1', 'g2']);
  assert.deepEqual(ds.skipped, [{ line: 4, reason: 'span [5, 50) is outside the text (length 8) or empty' }]);
});

test('JSONL: invalid lines and non-objects reported; numbers and booleans become labels', () => {
  const jsonl = '{"text":"a b","label":1}\n{"text":"c","label":true}\nnot json\n[1,2]\n\n{"text":"d","label":1}\n';
  const ds = parseDataset(jsonl, spec('jsonl', { skipMalformed: true }));
  assert.deepEqual(ds.labels, ['1', 'true']);
  assert.deepEqual(ds.skipped.map((r) => r.line), [3, 4]);
  assert.deepEqual(ds.examples.map((e) => e.line), [1, 2, 6]);
});

test('JSON array: element lines found for malformed elements', () => {
  const json = '[\n  {"text": "x [1, 2]", "label": "a"},\n  "oops",\n  {"text": "y", "label": "b"}\n]';
  assert.throws(() => parseDataset(json, spec('json')), (e: unknown) => e instanceof DatasetError && e.rows[0].line === 3);
});

test('missing columns, one label, unknown extension: clear errors', () => {
  assert.throws(() => parseDataset('t,label\nx,a\n', spec('csv')), /text column "text" is not in the data set \(columns: t, label\)/);
  assert.throws(() => parseDataset('text,label\nx,a\ny,a\n', spec('csv')), /at least two labels/);
  assert.throws(() => formatFromPath('data.xlsx'), /Cannot tell the format/);
  assert.throws(() => parseDataset('text,label\nx,a\ny,b\n', spec('csv'), true), /span column/);
});

test('inspect lists columns and a preview', () => {
  const r = inspectDataset('text,label,extra\nx,a,1\ny,b,2\n', 'csv');
  assert.deepEqual(r.columns, ['text', 'label', 'extra']);
  assert.equal(r.rows, 2);
  assert.deepEqual(r.preview[1], { text: 'y', label: 'b', extra: '2' });
});
