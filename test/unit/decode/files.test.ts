// Corpus files (text / JSONL / JSON / CSV, errors with file and line) and lens files (round trip,
// corrupt files rejected with a clear error).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseCorpusFile, readCorpus } from '../../../native/analyses/decode/corpus';
import type { AffineLens } from '../../../native/analyses/decode/lens';
import { lensFile, loadLens, modelKey, saveLens, type LensMeta } from '../../../native/analyses/decode/lensStore';
import { randn, rng } from './reference';

const dir = mkdtempSync(path.join(os.tmpdir(), 'layerlens-decode-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('corpus files: paragraphs, JSONL fields, JSON arrays, CSV columns', async () => {
  assert.deepEqual(parseCorpusFile('a.txt', 'one\ntwo\n\nthree\r\n\r\nfour'), ['one\ntwo', 'three', 'four']);
  assert.deepEqual(parseCorpusFile('a.jsonl', '{"text": "a"}\n\n{"prompt": "b"}\n"c"\n'), ['a', 'b', 'c']);
  assert.deepEqual(parseCorpusFile('a.json', '["x", {"content": "y"}]'), ['x', 'y']);
  assert.deepEqual(parseCorpusFile('a.csv', 'id,text\n1,"hello, world"\n2,"multi\nline"\n'), ['hello, world', 'multi\nline']);
  assert.throws(() => parseCorpusFile('a.jsonl', '{"text": "a"}\n{oops\n'), /a\.jsonl:2: not JSON/);
  assert.throws(() => parseCorpusFile('a.jsonl', '{"label": 1}\n'), /a\.jsonl:1: expected a string or an object with a "text"/);
  assert.throws(() => parseCorpusFile('a.csv', 'id,label\n1,x\n'), /no column named text/);
  const file = path.join(dir, 'c.jsonl');
  writeFileSync(file, '{"text": "from a file"}\n');
  assert.deepEqual(await readCorpus({ files: [file], texts: ['  inline  ', ''] }), ['inline', 'from a file']);
  await assert.rejects(readCorpus({ texts: ['  '] }), /no texts/);
  await assert.rejects(readCorpus({ files: [path.join(dir, 'missing.txt')] }), /Cannot read corpus file/);
});

test('lens files round-trip; truncated or foreign files are rejected clearly; absent ones are undefined', async () => {
  const d = 4;
  const r = rng(9);
  const lens: AffineLens = { kind: 'tuned', hidden: d, m: [randn(d * d, r), randn(d * d, r)], b: [randn(d, r), randn(d, r)] };
  const key = modelKey({ name: 'tiny model', onnxFile: '/x/model.onnx', sizeBytes: 123 });
  assert.match(key, /^tiny model-[0-9a-f]{12}$/);
  const file = lensFile(dir, key, 'tuned');
  assert.equal(path.basename(path.dirname(file)), key.replace(/ /g, '_'));
  const meta: LensMeta = { kind: 'tuned', modelKey: key, fitKey: 'k', layers: 2, hidden: d, trainTokens: 10, heldOutTokens: 3, evals: [], createdAt: 'now' };
  await saveLens(file, lens, meta);
  const back = await loadLens(file);
  assert.deepEqual(back?.meta, meta);
  assert.deepEqual(back?.lens, lens);
  assert.equal(await loadLens(path.join(dir, 'none.lens')), undefined);
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, bytes.length - 4));
  await assert.rejects(loadLens(file), /unusable \(truncated\)/);
  writeFileSync(file, Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from('{}')]));
  await assert.rejects(loadLens(file), /not a layerlens lens/);
});
