// The skip pillar in a real VS Code: "Skip sweep" from the CodeLens opens the skip panel with the
// layer-importance chart of the loaded model; its JSON export agrees with the model file run directly
// (base cross-entropy); a plan built in the plan editor (block 0 removed) changes the continuation.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { root } from '../../../tools/setup.mjs';

export const timeout = 240_000;

const demoOnnx = join(root, 'demo/model/onnx/model.onnx');
const stories = join(root, '../shared/models/stories260K');

function modelUnderTest() {
  if (existsSync(demoOnnx)) return { folder: join(root, 'demo/model'), onnx: demoOnnx, demo: true };
  if (existsSync(join(stories, 'onnx/model.onnx'))) return { folder: stories, onnx: join(stories, 'onnx/model.onnx'), demo: false };
  return undefined;
}

/** Mean next-token cross-entropy of `ids` computed from the ONNX file directly (no layerlens code). */
async function referenceCe(onnxFile, ids) {
  const session = await ort.InferenceSession.create(onnxFile);
  const T = ids.length;
  const ints = (type, values) =>
    type === 'int32' ? new ort.Tensor('int32', Int32Array.from(values), [1, T]) : new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, T]);
  const feeds = {};
  for (const m of session.inputMetadata) {
    if (m.name === 'input_ids') feeds[m.name] = ints(m.type, ids);
    else if (m.name === 'attention_mask') feeds[m.name] = ints(m.type, ids.map(() => 1));
    else if (m.name === 'position_ids') feeds[m.name] = ints(m.type, ids.map((_, i) => i));
    else {
      const dims = m.shape.map((d) => (typeof d === 'number' ? d : /past/.test(d) ? 0 : 1));
      feeds[m.name] = m.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    }
  }
  const out = await session.run(feeds, ['logits']);
  await session.release();
  const logits = out.logits.data;
  const V = logits.length / T;
  let ce = 0;
  for (let t = 0; t + 1 < T; t++) {
    const row = logits.subarray(t * V, (t + 1) * V);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    ce -= row[ids[t + 1]] - lse;
  }
  return ce / (T - 1);
}

/** Clicks a panel button and answers the save dialog with `file`; returns the written bytes. */
async function exportTo(page, helpers, label, suggested, file) {
  await helpers.webview().locator('vscode-button', { hasText: label }).first().click();
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await page.waitForFunction((name) => document.querySelector('.quick-input-widget input')?.value.endsWith(name), suggested, { timeout: 10_000 });
  await input.fill(file);
  await page.waitForFunction((f) => document.querySelector('.quick-input-widget input')?.value === f, file, { timeout: 5_000 });
  await page.keyboard.press('Enter');
  const until = Date.now() + 20_000;
  while (!existsSync(file) || statSync(file).size === 0) {
    if (Date.now() > until) throw new Error(`${label} export did not write ${file}`);
    await page.waitForTimeout(250);
  }
  return readFileSync(file);
}

let model;

export default {
  async 'Skip sweep from the CodeLens shows layer importance with real values'({ page, helpers }) {
    model = modelUnderTest();
    if (!model) helpers.skip('no demo model and no ../shared/models/stories260K');
    if (model.demo) await helpers.loadDemoModel();
    else await helpers.openModel(model.folder);
    await helpers.openFile('story.prompt.md');
    await helpers.withoutErrors(async () => {
      await helpers.clickCodeLens('Skip sweep');
      const view = helpers.webview();
      await view.locator('.ll-chart canvas').first().waitFor({ timeout: 120_000 });
      const summary = await view.locator('.ll-skip-summary').first().textContent();
      assert.match(summary, /\d+ scored positions, base cross-entropy \d+\.\d+ nats/, summary);
      assert.equal(await view.locator('[role=tab][aria-selected=true]').textContent(), 'Layer importance');
    });
    await helpers.screenshot('skip-importance');
  },

  async 'the JSON export agrees with the model file run directly'({ page, helpers }) {
    if (!model) helpers.skip('no model');
    const result = JSON.parse((await exportTo(page, helpers, 'JSON', 'skip-sweep.json', join(helpers.workspace, 'skip.json'))).toString('utf8'));
    const ids = result.tokens.map((t) => t.id);
    const ref = await referenceCe(model.onnx, ids);
    assert.ok(Math.abs(result.baseCe - ref) < 1e-3, `base CE ${result.baseCe} vs ${ref}`);
    const skips = result.entries.filter((e) => e.kind === 'skip');
    assert.equal(skips.length, result.numLayers);
    assert.ok(skips.every((e) => e.kl > 0 && e.top1 <= 1), 'every block skip changes the output');
  },

  async 'the per-token heatmap is linked to the prompt and keyboard reachable'({ page, helpers }) {
    if (!model) helpers.skip('no model');
    const view = helpers.webview();
    await view.locator('[role=tab]', { hasText: 'Per token' }).click();
    const map = view.locator('.ll-heatmap').first();
    await map.locator('canvas').waitFor();
    const decorations = () => page.locator('.monaco-editor .view-overlays div[class*="ced-"]').count();
    const box = await map.locator('canvas').boundingBox();
    await page.mouse.move(box.x + 2, box.y + 2);
    const before = await decorations();
    await page.mouse.move(box.x + Math.min(box.width - 10, 260), box.y + 10);
    await page.waitForFunction((n) => document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]').length > n, before, { timeout: 10_000 });
    await map.focus();
    await page.keyboard.press('End');
    const live = await view.locator('.ll-heatmap [role=status]').first().textContent();
    assert.match(live, /skip 0, \d+:.*: \d/, live);
    await helpers.screenshot('skip-per-token');
  },

  async 'a plan without block 0 changes the continuation in the plan editor'({ helpers }) {
    if (!model) helpers.skip('no model');
    const view = helpers.webview();
    await view.locator('[role=tab]', { hasText: 'Plan editor' }).click();
    await view.locator('vscode-button[title="remove slot 0"]').click();
    await view.locator('.ll-skip-summary', { hasText: 'Plan: 1 2' }).waitFor();
    await helpers.withoutErrors(async () => {
      await view.locator('vscode-button', { hasText: 'Run plan' }).click();
      await view.locator('.ll-skip-compare').waitFor({ timeout: 60_000 });
    });
    const [original, modified] = await view.locator('.ll-skip-compare pre').allTextContents();
    assert.ok(modified.trim().length > 0, 'the modified plan generated text');
    assert.notEqual(modified, original);
    const summary = await view.locator('.ll-skip-summary', { hasText: 'Last run' }).textContent();
    assert.match(summary, /top-1 agreement \d+\.\d%/, summary);
    await helpers.screenshot('skip-plan');
  },
};
