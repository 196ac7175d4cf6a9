// The sidecar process end to end over JSON-RPC: loading stories260K, runs and generation checked against
// expected.json (an independent numpy implementation), plans, errors, progress, cancellation, shutdown.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import type { ModelInfo } from '../../../protocol';
import { EXPECTED, GQA, STORIES, modelDir, storiesSideFiles } from '../model/helpers';
import { errorOf, startSidecar, type TestSidecar } from './client';

const expected = EXPECTED.cases[0];
const lensAfterLayer3 = (EXPECTED.cases[0] as unknown as { residual_stream_last_position: Record<string, { logit_lens_top5: Array<{ id: number; logit: number }> }> })
  .residual_stream_last_position['/model/layers.3/Add_1_output_0'].logit_lens_top5;

async function rejectsWithCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e) => {
    const err = errorOf(e);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('sidecar', () => {
  let s: TestSidecar;
  let model: ModelInfo;
  before(async () => {
    s = startSidecar();
    model = await s.request('model/load', { path: STORIES, provider: 'cpu', progressToken: 'load-1' });
  });
  after(() => s?.stop());

  it('reports its pid, versions and providers', async () => {
    const info = await s.request('sidecar/info', {});
    assert.equal(info.pid, s.child.pid);
    const req = createRequire(__filename);
    assert.equal(info.ortVersion, req('onnxruntime-node/package.json').version);
    assert.equal(info.version, req('../../../package.json').version);
    assert.ok(info.providers.includes('cpu'));
  });

  it('loads a model once, reporting progress, and lists it', async () => {
    assert.equal(model.layerMap.numLayers, 5);
    assert.equal(model.provider, 'cpu');
    const steps = s.progress.get('load-1') ?? [];
    assert.ok(steps.length >= 2, 'progress notifications arrived');
    assert.equal(steps.at(-1)!.fraction, 1);
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i].fraction! >= steps[i - 1].fraction!);
    const again = await s.request('model/load', { path: STORIES, provider: 'cpu' });
    assert.equal(again.id, model.id, 'the same model is not loaded twice');
    assert.deepEqual((await s.request('model/list', {})).map((m) => m.id), [model.id]);
  });

  it('tokenizes with spans', async () => {
    const { tokens } = await s.request('model/tokenize', { modelId: model.id, text: expected.prompt });
    assert.deepEqual(tokens.map((t) => t.id), expected.prompt_ids);
    assert.deepEqual(tokens.slice(1).map((t) => expected.prompt.slice(t.start, t.end)), ['Once', ' upon', ' a', ' time']);
  });

  it('runs the prompts of expected.json: next-token top-5 ids and logits', async () => {
    for (const c of EXPECTED.cases) {
      const r = await s.request('model/run', { modelId: model.id, text: c.prompt });
      assert.deepEqual(r.tokens.map((t) => t.id), c.prompt_ids);
      assert.deepEqual(r.next.map((t) => t.id), c.last_prompt_position_top5.map((t) => t.id), c.prompt);
      r.next.forEach((t, i) => assert.ok(Math.abs(t.logit - c.last_prompt_position_top5[i].logit) < 1e-3, `${t.logit}`));
      // probabilities are the softmax of the logits: their ratios follow the logit differences
      assert.ok(Math.abs(r.next[0].prob / r.next[1].prob - Math.exp(r.next[0].logit - r.next[1].logit)) < 1e-3 * r.next[0].prob / r.next[1].prob);
      assert.equal(r.provider, 'cpu');
    }
    const ids = await s.request('model/run', { modelId: model.id, ids: expected.prompt_ids, topK: 2 });
    assert.deepEqual(ids.next.map((t) => t.id), expected.last_prompt_position_top5.slice(0, 2).map((t) => t.id));
  });

  it('runs under a plan: an early exit after layer 3 gives the logit lens of that layer', async () => {
    const slots = [0, 1, 2, 3, 4].map((layer) => ({ layer }));
    const r = await s.request('model/run', { modelId: model.id, text: expected.prompt, plan: { slots, exitAfter: 3 } });
    assert.deepEqual(r.next.map((t) => t.id), lensAfterLayer3.map((t) => t.id));
    r.next.forEach((t, i) => assert.ok(Math.abs(t.logit - lensAfterLayer3[i].logit) < 1e-3, `${t.logit} vs ${lensAfterLayer3[i].logit}`));
    await rejectsWithCode(s.request('model/run', { modelId: model.id, text: 'x', plan: { slots: [{ layer: 7 }] } }), 'BAD_REQUEST', /layer 7/);
    await rejectsWithCode(s.request('model/run', { modelId: model.id, text: 'x', plan: {} as never }), 'BAD_REQUEST', /plan\.slots/);
  });

  it('generates under a plan with the per-slot KV cache like full reruns of that plan', async () => {
    const plan = { slots: [0, 1, 2, 3, 4].map((layer) => ({ layer })), exitAfter: 3 };
    const g = await s.request('model/generate', { modelId: model.id, text: expected.prompt, maxNewTokens: 4, plan });
    assert.equal(g.ids[0], lensAfterLayer3[0].id);
    for (let k = 1; k < g.ids.length; k++) {
      const r = await s.request('model/run', { modelId: model.id, ids: [...expected.prompt_ids, ...g.ids.slice(0, k)], plan, topK: 1 });
      assert.equal(r.next[0].id, g.ids[k], `token ${k}`);
    }
  });

  it('generates greedily with the KV cache like the reference', async () => {
    s.progress.delete('gen-1');
    const g = await s.request('model/generate', { modelId: model.id, text: expected.prompt, maxNewTokens: 20, progressToken: 'gen-1' });
    assert.deepEqual(g.ids, expected.greedy_new_token_ids);
    assert.equal(g.text, expected.new_text);
    assert.equal(g.stop, 'maxNewTokens');
    assert.deepEqual(g.promptTokens.map((t) => t.id), expected.prompt_ids);
    // partial results (throttled): the first token, growing prefixes, then everything
    const partial = (s.progress.get('gen-1') ?? []).map((p) => (p.partial as { ids: number[] }).ids);
    assert.deepEqual(partial[0], g.ids.slice(0, 1));
    assert.deepEqual(partial.at(-1), g.ids);
    partial.forEach((ids, i) => {
      assert.deepEqual(ids, g.ids.slice(0, ids.length));
      if (i > 0) assert.ok(ids.length > partial[i - 1].length);
    });
  });

  it('serves concurrent requests on one model, each with its own cache', async () => {
    const runs = EXPECTED.cases.map((c) => s.request('model/generate', { modelId: model.id, text: c.prompt, maxNewTokens: 20 }));
    const plan = { slots: [0, 1, 2, 3, 4].map((layer) => ({ layer })), exitAfter: 3 };
    const staged = s.request('model/run', { modelId: model.id, text: expected.prompt, plan });
    const results = await Promise.all(runs);
    results.forEach((g, i) => assert.deepEqual(g.ids, EXPECTED.cases[i].greedy_new_token_ids, EXPECTED.cases[i].prompt));
    assert.equal((await staged).next[0].id, lensAfterLayer3[0].id);
  });

  it('stops generating at the end of the context window', async () => {
    const ids = [1, ...Array.from({ length: 507 }, (_, i) => expected.prompt_ids[1 + (i % 4)])];
    const g = await s.request('model/generate', { modelId: model.id, ids, maxNewTokens: 10 });
    assert.equal(g.stop, 'context');
    assert.equal(g.ids.length, 512 - ids.length);
  });

  it('stops generating at an end-of-sequence token from generation_config.json', async () => {
    // a copy of stories260K whose eos is the reference's second greedy token
    const eos = expected.greedy_new_token_ids[1];
    const dir = modelDir({ ...storiesSideFiles(), 'generation_config.json': JSON.stringify({ bos_token_id: 1, eos_token_id: [2, eos] }), 'onnx/model.onnx': { link: path.join(STORIES, 'onnx/model.onnx') } });
    const m = await s.request('model/load', { path: dir, provider: 'cpu' });
    try {
      const g = await s.request('model/generate', { modelId: m.id, text: expected.prompt, maxNewTokens: 20 });
      assert.deepEqual(g.ids, expected.greedy_new_token_ids.slice(0, 2));
      assert.equal(g.stop, 'eos');
    } finally {
      await s.request('model/unload', { modelId: m.id });
    }
  });

  it('samples reproducibly with a seed', async () => {
    const run = (seed: number) => s.request('model/generate', { modelId: model.id, text: 'The cat', maxNewTokens: 8, temperature: 1.5, seed });
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    assert.deepEqual(a.ids, b.ids);
    assert.notDeepEqual(a.ids, c.ids);
    await rejectsWithCode(s.request('model/generate', { modelId: model.id, text: 'x', temperature: -1 }), 'BAD_REQUEST', /temperature/);
    await rejectsWithCode(s.request('model/generate', { modelId: model.id, text: 'x', maxNewTokens: 0 }), 'BAD_REQUEST', /maxNewTokens/);
  });

  it('answers bad requests with stable codes and keeps serving', async () => {
    await rejectsWithCode(s.request('model/run', { modelId: 'nope', text: 'x' }), 'MODEL_NOT_LOADED');
    await rejectsWithCode(s.request('model/run', { modelId: model.id, text: 'Once upon a time there was a cat. '.repeat(80) }), 'PROMPT_TOO_LONG', /context window of 512/);
    await rejectsWithCode(s.request('model/run', { modelId: model.id, text: 'x', topK: 0 }), 'BAD_REQUEST', /topK/);
    await rejectsWithCode(s.request('model/load', { path: GQA, provider: 'cpu' }), 'MISSING_TOKENIZER');
    await rejectsWithCode(s.request('model/load', { path: STORIES, provider: 'tpu' as never }), 'BAD_REQUEST', /provider must be one of/);
    await rejectsWithCode(s.request('model/load', {} as never), 'BAD_REQUEST', /needs a path/);
    await rejectsWithCode(s.request('model/load', { path: STORIES, variant: 'model_q4' }), 'BAD_REQUEST', /no ONNX variant/);
    await assert.rejects(s.connection.sendRequest('no/such-method', {}), (e) => errorOf(e).rpcCode === -32601);
    const r = await s.request('model/run', { modelId: model.id, text: expected.prompt });
    assert.equal(r.next[0].id, expected.last_prompt_position_top5[0].id);
  });

  it('cancels a request', async () => {
    const cancel = new CancellationTokenSource();
    s.onProgress = (p) => {
      if (p.token === 'gen-cancel') cancel.cancel();
    };
    const started = Date.now();
    await rejectsWithCode(s.request('model/generate', { modelId: model.id, text: 'x', maxNewTokens: 400, progressToken: 'gen-cancel' }, cancel), 'CANCELLED');
    s.onProgress = undefined;
    const steps = s.progress.get('gen-cancel')!.length;
    assert.ok(steps < 50, `stopped after ${steps} of 400 tokens (${Date.now() - started} ms)`);
    const r = await s.request('model/run', { modelId: model.id, text: expected.prompt });
    assert.equal(r.next[0].id, expected.last_prompt_position_top5[0].id, 'still serving after a cancellation');
  });

  it('stops the requests using a model it unloads', async () => {
    const plan = { slots: [0, 1, 2, 3, 4].map((layer) => ({ layer })), exitAfter: 3 };
    const running = s.request('model/generate', { modelId: model.id, text: 'x', maxNewTokens: 400, plan, progressToken: 'gen-unload' });
    await new Promise<void>((resolve) => (s.onProgress = (p) => p.token === 'gen-unload' && resolve()));
    s.onProgress = undefined;
    const stopped = rejectsWithCode(running, 'MODEL_NOT_LOADED', /was unloaded while this request was using it/);
    assert.deepEqual(await s.request('model/unload', { modelId: model.id }), { ok: true });
    await stopped;
    assert.ok(s.progress.get('gen-unload')!.length < 400);
    model = await s.request('model/load', { path: STORIES, provider: 'cpu' });
  });

  it('unloads a model', async () => {
    assert.deepEqual(await s.request('model/unload', { modelId: model.id }), { ok: true });
    assert.deepEqual(await s.request('model/list', {}), []);
    await rejectsWithCode(s.request('model/run', { modelId: model.id, text: 'x' }), 'MODEL_NOT_LOADED');
    await rejectsWithCode(s.request('model/unload', { modelId: model.id }), 'MODEL_NOT_LOADED');
  });
});

describe('sidecar lifetime', () => {
  it('finishes requests in flight when stdin closes, then exits 0', async () => {
    const s = startSidecar();
    const { id } = await s.request('model/load', { path: STORIES, provider: 'cpu' });
    let generated = 0;
    const pending = s.request('model/generate', { modelId: id, text: expected.prompt, maxNewTokens: 60, progressToken: 'g' });
    await new Promise<void>((resolve) => (s.onProgress = () => ++generated === 1 && resolve()));
    s.child.stdin!.end();
    const g = await pending;
    assert.equal(g.ids.length, 60);
    assert.deepEqual(g.ids.slice(0, 20), expected.greedy_new_token_ids);
    assert.equal(await s.exited, 0);
    assert.match(s.stderr(), /model\/generate done/);
  });

  it('refuses models larger than LAYERLENS_MEMORY_LIMIT_BYTES', async () => {
    const s = startSidecar({ LAYERLENS_MEMORY_LIMIT_BYTES: '1000000' });
    try {
      await rejectsWithCode(s.request('model/load', { path: STORIES, provider: 'cpu' }), 'MODEL_TOO_LARGE', /takes 1\.29 MiB on disk, more than the 0\.95 MiB of memory available/);
    } finally {
      await s.stop();
    }
  });

  it("rejects the client's pending request when the sidecar dies mid-request", async () => {
    const s = startSidecar();
    const { id } = await s.request('model/load', { path: STORIES, provider: 'cpu' });
    const pending = s.request('model/generate', { modelId: id, text: 'x', maxNewTokens: 400, progressToken: 'k' });
    await new Promise<void>((resolve) => (s.onProgress = () => resolve()));
    s.child.kill('SIGKILL');
    await assert.rejects(pending);
    assert.equal(await s.exited, 'SIGKILL');
  });
});
