// The probe methods through the real sidecar server (vscode-jsonrpc over in-memory streams) on
// stories260K: inspect, train with progress, readout, BAD_DATASET with line numbers, cancellation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import type { ProgressParams, SidecarErrorData } from '../../../protocol';
import { errorOf, startInMemorySidecar, type InMemorySidecar } from '../support/rpc';
import { genderRows, STORIES, writeGenderCsv } from './stories';

let sidecar: InMemorySidecar;
let progress: ProgressParams[];
let modelId: string;
let dir: string;
const call: InMemorySidecar['call'] = (method, params, cancel) => sidecar.call(method, params, cancel);

/** The error a request must end with. */
async function code(p: Promise<unknown>): Promise<SidecarErrorData> {
  const err = await errorOf(p);
  assert.ok(err, 'expected an error');
  return err;
}

before(async () => {
  sidecar = startInMemorySidecar();
  progress = sidecar.progress;
  modelId = (await call('model/load', { path: STORIES, provider: 'cpu' })).id;
  dir = mkdtempSync(path.join(os.tmpdir(), 'layerlens-probe-rpc-'));
});

after(async () => {
  await sidecar.close();
  rmSync(dir, { recursive: true, force: true });
});

test('inspect, train (with progress) and read out through the sidecar', async () => {
  const csv = writeGenderCsv(dir, genderRows().filter((_, i) => i % 2 === 0));
  const info = await call('probe/inspectDataset', { path: csv });
  assert.deepEqual(info.columns, ['text', 'label', 'group']);
  assert.equal(info.rows, 40);
  const saveTo = path.join(dir, 'g.probe.json');
  const run = await call('probe/train', { modelId, dataset: { path: csv, textColumn: 'text', labelColumn: 'label' }, pooling: 'last', cacheDir: path.join(dir, 'cache'), saveTo, folds: 4, progressToken: 'p1' });
  assert.equal(run.examples, 40);
  assert.equal(run.layers.length, 6);
  assert.equal(run.probeFile, saveTo);
  const mine = progress.filter((p) => p.token === 'p1');
  assert.ok(mine.some((p) => /Activations/.test(p.message ?? '')) && mine.some((p) => /Probes/.test(p.message ?? '')));
  const r = await call('probe/readout', { modelId, text: 'Lily ate a red apple. Then', probeFile: saveTo });
  assert.equal(r.probs.length, 6);
  assert.equal(r.probs[0].length, r.tokens.length);
  assert.deepEqual(r.labels, ['he', 'she']);
});

test('malformed rows: BAD_DATASET listing the lines; allowed with skipMalformed', async () => {
  const csv = path.join(dir, 'bad.csv');
  const rows = genderRows().filter((_, i) => i % 4 === 0);
  writeFileSync(csv, ['text,label', ...rows.map((r) => `"${r.text}",${r.label}`), 'no label here', `"${rows[0].text}",`].join('\n'));
  const err = await code(call('probe/train', { modelId, dataset: { path: csv, textColumn: 'text', labelColumn: 'label' }, pooling: 'last', cacheDir: path.join(dir, 'cache') }));
  assert.equal(err.code, 'BAD_DATASET');
  assert.match(err.detail ?? '', /^line 22: .*\nline 23: /);
  const ok = await call('probe/train', { modelId, dataset: { path: csv, textColumn: 'text', labelColumn: 'label', skipMalformed: true }, pooling: 'last', cacheDir: path.join(dir, 'cache'), folds: 2 });
  assert.deepEqual(ok.skipped.map((s) => s.line), [22, 23]);
  assert.equal((await code(call('probe/train', { modelId, dataset: { path: csv, textColumn: 'text', labelColumn: 'label' }, pooling: 'middle' as 'last', cacheDir: dir }))).code, 'BAD_REQUEST');
  assert.equal((await code(call('probe/readout', { modelId, text: 'x', probeFile: csv }))).code, 'BAD_REQUEST');
});

test('cancelling a training run answers CANCELLED', async () => {
  const csv = writeGenderCsv(dir);
  const cts = new CancellationTokenSource();
  const pending = call('probe/train', { modelId, dataset: { path: csv, textColumn: 'text', labelColumn: 'label' }, pooling: 'mean', cacheDir: path.join(dir, 'cache-cancel') }, cts);
  setTimeout(() => cts.cancel(), 300);
  assert.equal((await code(pending)).code, 'CANCELLED');
});
