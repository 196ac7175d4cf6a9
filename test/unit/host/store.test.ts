// ResultStore: JSON files in a folder; save / get / list / update / delete, bad ids and corrupt files.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResultStore, type NewResult } from '../../../src/results/store';

function sample(title: string, kind: NewResult['kind'] = 'decode'): NewResult<{ layers: number[] }> {
  return {
    kind,
    title,
    modelId: 'm1',
    modelName: 'stories260K',
    prompt: { uri: 'file:///w/a.prompt.md', startOffset: 4, text: 'Once upon a time' },
    tokens: [{ id: 403, text: 'Once', start: 0, end: 4 }],
    request: { method: 'model/run', params: { modelId: 'm1', text: 'Once upon a time' } },
    result: { layers: [1, 2, 3] },
  };
}

describe('ResultStore', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'layerlens-store-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves a result as one JSON file and reads it back', async () => {
    const store = new ResultStore(join(dir, 'a', 'results'));
    let changes = 0;
    store.onDidChange(() => changes++);
    const saved = await store.save(sample('Decode: Once'));
    assert.match(saved.id, /^[a-z0-9]+-[a-f0-9]{8}$/);
    assert.ok(!Number.isNaN(Date.parse(saved.createdAt)));
    const onDisk = JSON.parse(await readFile(join(dir, 'a', 'results', `${saved.id}.json`), 'utf8'));
    assert.deepEqual(onDisk, saved);
    assert.deepEqual(await store.get(saved.id), saved);
    assert.equal(changes, 1);
  });

  it('lists newest first, across instances (reload), and updates in place', async () => {
    const folder = join(dir, 'b');
    const store = new ResultStore(folder);
    const first = await store.save(sample('first'));
    await new Promise((r) => setTimeout(r, 5));
    const second = await store.save(sample('second', 'skip'));
    assert.deepEqual((await store.list()).map((s) => s.title), ['second', 'first']);
    const reopened = new ResultStore(folder);
    assert.deepEqual((await reopened.list()).map((s) => s.id), [second.id, first.id]);
    await new Promise((r) => setTimeout(r, 5));
    const updated = await reopened.update(first.id, { ...sample('first, re-run'), result: { layers: [9] } });
    assert.equal(updated.id, first.id);
    assert.deepEqual((await reopened.get(first.id))?.result, { layers: [9] });
    assert.deepEqual((await reopened.list()).map((s) => s.title), ['first, re-run', 'second']);
    assert.equal((await readdir(folder)).length, 2);
  });

  it('deletes, and says whether the result existed', async () => {
    const store = new ResultStore(join(dir, 'c'));
    const r = await store.save(sample('gone soon'));
    assert.equal(await store.delete(r.id), true);
    assert.equal(await store.get(r.id), undefined);
    assert.equal(await store.delete(r.id), false);
    assert.deepEqual(await store.list(), []);
  });

  it('rejects ids that are not store ids (no path traversal)', async () => {
    const store = new ResultStore(join(dir, 'd'));
    for (const bad of ['../../etc/passwd', '', 'abc', 'x-1234567', 42 as unknown as string]) {
      await assert.rejects(store.get(bad), /Not a layerlens result id/);
      await assert.rejects(store.delete(bad), /Not a layerlens result id/);
    }
  });

  it('skips corrupt or foreign files in the list and reports a corrupt file on get', async () => {
    const folder = join(dir, 'e');
    const store = new ResultStore(folder);
    const good = await store.save(sample('good'));
    await writeFile(join(folder, 'lz0abc-0123abcd.json'), '{ not json');
    await writeFile(join(folder, 'notes.txt'), 'hello');
    await writeFile(join(folder, 'lz0abd-0123abce.json'), JSON.stringify({ id: 'lz0abd-0123abce', kind: 'nope' }));
    const fresh = new ResultStore(folder);
    assert.deepEqual((await fresh.list()).map((s) => s.id), [good.id]);
    await assert.rejects(fresh.get('lz0abc-0123abcd'), /unreadable/);
  });

  it('serializes exactly what it stores', async () => {
    const store = new ResultStore(join(dir, 'f'));
    const r = await store.save(sample('export me'));
    assert.deepEqual(JSON.parse(ResultStore.serialize(r)), await store.get(r.id));
  });
});
