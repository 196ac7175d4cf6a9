// The probe methods through the real sidecar server (vscode-jsonrpc over in-memory streams) on
// stories260K: inspect, train with progress, readout, BAD_DATASET with line numbers, cancellation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { CancellationTokenSource, createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { PROGRESS_NOTIFICATION, type ParamsOf, type ProgressParams, type ResultOf, type SidecarErrorData, type SidecarMethod } from '../../../protocol';
import { registerAll } from '../../../native/handlers';
import { SidecarServer } from '../../../native/server';
import { genderRows, STORIES, writeGenderCsv } from './stories';

let client: MessageConnection;
let modelId: string;
let dir: string;
let served: Promise<void>;
const progress: ProgressParams[] = [];

function call<M extends SidecarMethod>(method: M, params: ParamsOf<M>, token?: CancellationTokenSource): Promise<ResultOf<M>> {
  return (token ? client.sendRequest(method, params, token.token) : client.sendRequest(method, params)) as Promise<ResultOf<M>>;
}

async function code(p: Promise<unknown>): Promise<SidecarErrorData> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ResponseError);
    return e.data as SidecarErrorData;
  }
  throw new Error('expected an error');
}

before(async () => {
  const up = new PassThrough();
  const down = new PassThrough();
  const server = new SidecarServer({ log: () => {} });
  registerAll(server);
  served = server.listen(createMessageConnection(new StreamMessageReader(up), new StreamMessageWriter(down)));
  client = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
  client.onNotification(PROGRESS_NOTIFICATION, (p: ProgressParams) => progress.push(p));
  client.listen();
  modelId = (await call('model/load', { path: STORIES, provider: 'cpu' })).id;
  dir = mkdtempSync(path.join(os.tmpdir(), 'layerlens-probe-rpc-'));
});

after(async () => {
  client.dispose();
  await served;
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
