// Shared by the E2E specs: the model under test, an independent reference run of it (the ONNX file in
// plain onnxruntime, no layerlens code involved), and answering a panel export's save dialog.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { root } from '../../tools/setup.mjs';

const demoOnnx = join(root, 'demo/model/onnx/model.onnx');
const stories = join(root, '../shared/models/stories260K');

/** Clicks the first "Decode layers" CodeLens in view and waits for the panel's heatmap; returns the webview. */
export async function decodeFromCodeLens(helpers) {
  let view;
  await helpers.withoutErrors(async () => {
    await helpers.clickCodeLens('Decode layers');
    view = helpers.webview();
    await view.locator('.ll-heatmap canvas').first().waitFor({ timeout: 90_000 });
    const summary = await view.locator('.ll-dec-summary').first().textContent();
    assert.match(summary, /tokens · \d+ blocks/, summary);
  });
  return view;
}

/** The demo model when it has been built, else stories260K (a real model with the same layout). */
export function modelUnderTest() {
  if (existsSync(demoOnnx)) return { folder: join(root, 'demo/model'), onnx: demoOnnx, demo: true };
  if (existsSync(join(stories, 'onnx/model.onnx'))) return { folder: stories, onnx: join(stories, 'onnx/model.onnx'), demo: false };
  return undefined;
}

/** Logits [T, V] of `ids` from the model file itself, with an empty KV cache. */
export async function referenceLogits(onnxFile, ids) {
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
      // An empty KV cache: the past length is 0, the batch 1, the other sizes as declared.
      const dims = m.shape.map((d) => (typeof d === 'number' ? d : /past/.test(d) ? 0 : 1));
      feeds[m.name] = m.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    }
  }
  const out = await session.run(feeds, ['logits']);
  await session.release();
  assert.equal(out.logits.type, 'float32', 'the reference reads float32 logits');
  const logits = out.logits.data;
  return { logits, T, V: logits.length / T };
}

/**
 * Clicks a panel button and answers VS Code's save dialog with `file`: waits for the dialog to show its
 * suggested name first (typing earlier races with it), then waits for the file. Returns the written bytes.
 */
export async function exportTo(page, helpers, label, suggested, file) {
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
