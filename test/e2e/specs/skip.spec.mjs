// The skip pillar in a real VS Code: "Skip sweep" from the CodeLens opens the skip panel with the
// layer-importance chart of the loaded model; its JSON export agrees with the model file run directly
// (base cross-entropy); a plan built in the plan editor (block 0 removed) changes the continuation.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { exportTo, modelUnderTest, referenceLogits } from '../support.mjs';

export const timeout = 240_000;

/** Mean next-token cross-entropy of `ids` computed from the ONNX file directly (no layerlens code). */
async function referenceCe(onnxFile, ids) {
  const { logits, T, V } = await referenceLogits(onnxFile, ids);
  let ce = 0;
  for (let t = 0; t + 1 < T; t++) {
    const row = logits.subarray(t * V, (t + 1) * V);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    ce -= row[ids[t + 1]] - lse;
  }
  return ce / (T - 1);
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
