// Host <-> sidecar in the real extension host: the extension's commands load a real model in its
// sidecar; the host-side SidecarClient runs model/run and model/generate against out/sidecar.js, and
// the results match the numpy float64 reference of stories260K (expected.json, computed independently).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { SidecarClient, SidecarError } from '../../../src/sidecar/client';
import { activated, repoRoot, sharedModel, testState, workspaceDir } from '../harness';

interface ReferenceCase {
  prompt: string;
  prompt_ids: number[];
  greedy_new_token_ids: number[];
  last_prompt_position_top5: { id: number }[];
}

const stories = sharedModel('stories260K');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

suite('sidecar', function () {
  this.timeout(120_000);
  let client: SidecarClient;

  suiteSetup(async function () {
    if (!stories) this.skip();
    await activated();
    client = new SidecarClient(
      { command: process.execPath, args: [join(repoRoot, 'out/sidecar.js')], env: { ELECTRON_RUN_AS_NODE: '1' }, cwd: repoRoot },
      { info: () => {}, warn: () => {}, error: () => {}, trace: () => {} },
    );
  });
  suiteTeardown(async () => client?.dispose());

  test('layerlens.openModel loads a model folder in the extension\'s sidecar', async () => {
    const config = JSON.parse(readFileSync(join(stories!, 'config.json'), 'utf8'));
    const info = (await vscode.commands.executeCommand('layerlens.openModel', vscode.Uri.file(stories!))) as
      | { id: string; layerMap: { numLayers: number; vocabSize: number; hiddenSize: number } }
      | undefined;
    assert.ok(info, 'the command returned no model (see the layerlens log)');
    assert.equal(info.layerMap.numLayers, config.num_hidden_layers);
    assert.equal(info.layerMap.vocabSize, config.vocab_size);
    assert.equal(info.layerMap.hiddenSize, config.hidden_size);
    const state = await testState();
    assert.equal(state.model?.id, info.id);
    assert.ok(state.sidecarPid && isAlive(state.sidecarPid), `sidecar pid ${state.sidecarPid} is not running`);
  });

  test('model/run: prompt tokens and next-token top-5 match the reference', async () => {
    const ref = JSON.parse(readFileSync(join(stories!, 'expected.json'), 'utf8')) as { cases: ReferenceCase[] };
    const model = await client.request('model/load', { path: stories!, provider: 'cpu' });
    for (const c of ref.cases) {
      const r = await client.request('model/run', { modelId: model.id, text: c.prompt, topK: 5 });
      assert.deepEqual(r.tokens.map((t) => t.id), c.prompt_ids, `tokens of ${JSON.stringify(c.prompt)}`);
      assert.deepEqual(r.next.map((t) => t.id), c.last_prompt_position_top5.map((t) => t.id), `top-5 after ${JSON.stringify(c.prompt)}`);
      const probs = r.next.map((t) => t.prob);
      assert.ok(probs.every((p, i) => p > 0 && p <= 1 && (i === 0 || p <= probs[i - 1])), `probabilities ${probs}`);
    }
  });

  test('model/generate: greedy continuation matches the reference', async () => {
    const ref = JSON.parse(readFileSync(join(stories!, 'expected.json'), 'utf8')) as { cases: ReferenceCase[] };
    const model = await client.request('model/load', { path: stories!, provider: 'cpu' });
    const c = ref.cases[0];
    const r = await client.request('model/generate', { modelId: model.id, text: c.prompt, maxNewTokens: c.greedy_new_token_ids.length });
    assert.deepEqual(r.ids, c.greedy_new_token_ids);
  });

  test('bad model folders are refused with clear errors and the sidecar keeps running', async () => {
    const pid = (await client.request('sidecar/info', {})).pid;
    // A clear error says what is wrong and names the folder or file at fault.
    const refused = async (path: string, names: string, expected: RegExp) =>
      assert.rejects(client.request('model/load', { path }), (e: unknown) => {
        assert.ok(e instanceof SidecarError, `expected a SidecarError, got ${e}`);
        assert.match(e.message, expected);
        assert.ok(e.message.includes(names), `the message does not name ${names}: ${e.message}`);
        return true;
      });
    // An empty folder.
    const empty = mkdtempSync(join(workspaceDir(), 'empty-'));
    await refused(empty, empty, /onnx|config\.json/i);
    // A real config and tokenizer, but onnx/model.onnx is text, not an ONNX protobuf.
    const bogus = mkdtempSync(join(workspaceDir(), 'bogus-onnx-'));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(stories!, f), join(bogus, f));
    mkdirSync(join(bogus, 'onnx'));
    writeFileSync(join(bogus, 'onnx/model.onnx'), 'this is not an ONNX protobuf');
    await refused(bogus, 'model.onnx', /not an ONNX|protobuf|pars/i);
    assert.equal((await client.request('sidecar/info', {})).pid, pid);
  });

  test('after the extension\'s sidecar is killed, the next command starts a new one', async () => {
    const before = await testState();
    assert.ok(before.sidecarPid, 'no sidecar running');
    process.kill(before.sidecarPid, 'SIGKILL');
    const until = Date.now() + 10_000;
    while (isAlive(before.sidecarPid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const info = await vscode.commands.executeCommand('layerlens.openModel', vscode.Uri.file(stories!));
    assert.ok(info, 'reloading the model after the crash failed');
    const after = await testState();
    assert.ok(after.sidecarPid && after.sidecarPid !== before.sidecarPid && isAlive(after.sidecarPid));
    assert.ok(after.sidecarGeneration > before.sidecarGeneration);
  });
});
