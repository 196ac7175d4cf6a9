// The decode pillar in a real VS Code: "Decode layers" from the CodeLens opens the decode panel whose
// heatmap shows the model's real tokens; hovering a cell highlights the token in the editor; the
// exports write files whose numbers agree with an independent onnxruntime run of the model file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeFromCodeLens, exportTo, modelUnderTest, referenceLogits } from '../support.mjs';

export const timeout = 180_000;

/**
 * Picks a quick-pick item by filtering for its label `text` and pressing Enter once that item is the focused row.
 * (Clicking races with the list re-rendering when one quick pick follows another.)
 */
async function pickByKeyboard(page, text) {
  await page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first().waitFor();
  await page.locator('.quick-input-widget input').fill(text);
  await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: text }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** Next-token argmax at every position, from the model file itself (no layerlens code involved). */
async function referenceTop1(onnxFile, ids) {
  const { logits, T, V } = await referenceLogits(onnxFile, ids);
  return Array.from({ length: T }, (_, t) => {
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[t * V + v] > logits[t * V + best]) best = v;
    return best;
  });
}

/** Editor decorations (the prompt-token highlight is one). */
const decorations = (page) => page.locator('.monaco-editor .view-overlays div[class*="ced-"]').count();

let model;

export default {
  async 'Decode layers from the CodeLens renders the heatmap of the loaded model'({ page, helpers }) {
    model = modelUnderTest();
    if (!model) helpers.skip('no demo model and no ../shared/models/stories260K');
    if (model.demo) await helpers.loadDemoModel();
    else await helpers.openModel(model.folder);
    await helpers.openFile('story.prompt.md');
    await decodeFromCodeLens(helpers);
    await helpers.screenshot('decode-panel');
  },

  async 'hovering a cell highlights its prompt token; keyboard focus announces the top-k'({ page, helpers }) {
    if (!model) helpers.skip('no model');
    const view = helpers.webview();
    const map = view.locator('.ll-heatmap').first();
    const box = await map.locator('canvas').boundingBox();
    // Hover over a cell of the second column: the tooltip lists the top-k and the editor highlights that token.
    await page.mouse.move(box.x + box.width / 2, box.y + 2);
    await page.mouse.move(box.x + 2, box.y + 2); // the row labels: no cell, no highlight
    const none = await decorations(page);
    await page.mouse.move(box.x + 180, box.y + 8);
    const tip = view.locator('.ll-dec-tip');
    await tip.waitFor({ state: 'visible' });
    assert.match(await tip.textContent(), /token \d+[^]*\d+\.\d%/);
    await page.waitForFunction((n) => document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]').length > n, none, { timeout: 10_000 });
    await helpers.screenshot('decode-hover');
    await map.focus();
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowUp');
    const live = await view.locator('.ll-heatmap [role=status]').first().textContent();
    assert.match(live, /top: .+%/, live);
  },

  async 'exports write PNG, SVG, CSV and JSON; the JSON agrees with the model file run directly'({ page, helpers }) {
    if (!model) helpers.skip('no model');
    const dir = helpers.workspace;
    const png = await exportTo(page, helpers, 'PNG', 'decode-heatmap.png', join(dir, 'decode.png'));
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const svg = (await exportTo(page, helpers, 'SVG', 'decode-heatmap.svg', join(dir, 'decode.svg'))).toString('utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const csv = (await exportTo(page, helpers, 'CSV', 'decode-layers.csv', join(dir, 'decode.csv'))).toString('utf8');
    const result = JSON.parse((await exportTo(page, helpers, 'JSON', 'decode-layers.json', join(dir, 'decode.json'))).toString('utf8'));
    const L = result.numLayers;
    const T = result.tokens.length;
    assert.equal(csv.trim().split(/\r\n/).length, 1 + (L + 1) * T);
    const grid = result.grids[0];
    assert.equal(grid.topIds.length, L + 1);
    // The last row is the model's own prediction: compare with the ONNX file run directly.
    const ids = result.tokens.map((t) => t.id);
    const ref = await referenceTop1(model.onnx, ids);
    assert.deepEqual(grid.topIds[L].map((cell) => cell[0]), ref);
    // The SVG shows the top-1 text of the last row at the last position.
    const lastTop = result.vocab[grid.topIds[L][T - 1][0]].replace(/ /g, '·').replace(/&/g, '&amp;').replace(/</g, '&lt;');
    assert.ok(svg.includes(lastTop.slice(0, 3)), `SVG lacks ${lastTop}`);
  },

  async 'a fitted linear-shortcut lens can be chosen in the panel and compared with the logit lens'({ page, helpers }) {
    if (!model) helpers.skip('no model');
    await helpers.clearNotifications();
    await helpers.runCommand('layerlens: Fit Lens (Linear Shortcut / Tuned)…');
    await page.locator('.quick-input-title', { hasText: 'Fit which lens?' }).waitFor();
    await pickByKeyboard(page, 'Linear shortcut');
    await page.locator('.quick-input-title', { hasText: 'Corpus to fit the lens on' }).waitFor();
    await pickByKeyboard(page, 'Workspace prompts + demo corpus');
    // Until the fit is done the panel answers "No shortcut lens has been fitted"; then it shows the lens.
    const view = helpers.webview();
    const heading = view.locator('h3', { hasText: 'Linear shortcut' }).first();
    await helpers.withoutErrors(async () => {
      const until = Date.now() + 150_000;
      while (!(await heading.isVisible())) {
        if (Date.now() > until) throw new Error(`the shortcut lens never became available: ${await view.locator('.ll-dec-error').first().textContent()}`);
        await view.locator('select').first().selectOption('shortcut');
        await page.waitForTimeout(2000);
      }
    });
    await view.locator('select').nth(1).selectOption('logit');
    await view.locator('select').nth(2).selectOption('diff');
    await view.locator('h3', { hasText: 'Linear shortcut − Logit lens' }).first().waitFor();
    await helpers.screenshot('decode-shortcut-diff');
  },

  async 'contrastive decoding shows greedy and DoLa next tokens for a chosen premature layer'({ helpers }) {
    if (!model) helpers.skip('no model');
    const view = helpers.webview();
    await view.locator('label', { hasText: 'Premature layer' }).locator('select').selectOption({ label: 'block 0' });
    await view.locator('vscode-button', { hasText: 'Contrastive next token' }).click();
    const caption = view.locator('.ll-dec-table caption', { hasText: 'premature layer: block 0' });
    await caption.waitFor({ timeout: 30_000 });
    const rows = await view.locator('.ll-dec-table tbody tr').count();
    assert.ok(rows >= 1, 'the table lists next tokens');
    assert.match(await view.locator('.ll-dec-table tbody tr').first().textContent(), /\d+\.\d%/);
    await helpers.screenshot('decode-contrastive');
  },

  async 'Compare Lenses shows KL per layer for the logit and the fitted shortcut lens, exported as CSV and JSON'({ page, helpers }) {
    if (!model) helpers.skip('no model');
    await helpers.clearNotifications();
    await helpers.runCommand('layerlens: Compare Lenses on Held-out Text…');
    await page.locator('.quick-input-title', { hasText: 'Held-out text to compare the lenses on' }).waitFor();
    await pickByKeyboard(page, 'Workspace prompts + demo corpus');
    await page.locator('.tab', { hasText: 'Lenses compared' }).first().waitFor({ timeout: 120_000 });
    const view = helpers.webview();
    await view.locator('h3', { hasText: 'KL to the output (nats) per layer' }).waitFor();
    await view.locator('.ll-chart canvas').first().waitFor();
    const summary = await view.locator('.ll-dec-summary').first().textContent();
    assert.match(summary, /^\d+ held-out tokens: Logit lens, Linear shortcut\.$/, summary);
    const dir = helpers.workspace;
    const result = JSON.parse((await exportTo(page, helpers, 'JSON', 'lens-evaluation.json', join(dir, 'lenses.json'))).toString('utf8'));
    const csv = (await exportTo(page, helpers, 'CSV', 'lens-evaluation.csv', join(dir, 'lenses.csv'))).toString('utf8').trim().split(/\r\n/);
    assert.deepEqual(result.evals.map((e) => e.lens), ['logit', 'shortcut']);
    const L = result.evals[0].layers.length;
    assert.equal(csv.length, 1 + L);
    assert.equal(csv[0], 'layer,logit_kl,logit_top1,logit_ce,shortcut_kl,shortcut_top1,shortcut_ce');
    // The table shows the exported numbers; at the last layer every lens is the model itself (KL 0).
    assert.equal(await view.locator('.ll-dec-table tbody tr').count(), L);
    for (const e of result.evals) assert.ok(Math.abs(e.layers[L - 1].kl) < 1e-3, `${e.lens} at the output: ${e.layers[L - 1].kl}`);
    assert.equal(Number(csv[1].split(',')[1]), result.evals[0].layers[0].kl);
    await helpers.screenshot('decode-lens-comparison');
  },

  async 'Decode MLP Neurons lists a block\'s neurons in a panel: search, another block, JSON export of what is listed'({ page, helpers }) {
    if (!model) helpers.skip('no model');
    await helpers.runCommand('layerlens: Decode MLP Neurons…');
    await page.locator('.quick-input-title', { hasText: 'Decode the MLP neurons of which block?' }).waitFor();
    await pickByKeyboard(page, 'Block 1');
    await page.locator('.tab', { hasText: 'MLP neurons' }).first().waitFor({ timeout: 60_000 });
    const view = helpers.webview();
    const summary = view.locator('.ll-dec-summary').first();
    await summary.filter({ hasText: /^Block 1: (\d+) of \1 MLP neurons/ }).waitFor();
    const all = Number(/of (\d+)/.exec(await summary.textContent())[1]);
    assert.equal(await view.locator('table.ll-neurons tbody tr').count(), Math.min(all, 500));
    // Search: a token the first neuron promotes keeps a subset, every listed neuron showing it.
    const token = (await view.locator('table.ll-neurons tbody tr').first().locator('td').nth(1).locator('.ll-neuron-token').first().getAttribute('title')).replace(/: [-\d.]+$/, '');
    const word = JSON.parse(token).trim();
    await view.locator('input[type=search]').fill(word);
    await summary.filter({ hasText: new RegExp(`^Block 1: \\d+ of ${all} `) }).waitFor();
    const kept = await view.locator('table.ll-neurons tbody tr').count();
    assert.ok(kept >= 1 && kept <= all, `${kept} of ${all}`);
    const listed = JSON.parse((await exportTo(page, helpers, 'JSON', 'neurons-block-1.json', join(helpers.workspace, 'neurons.json'))).toString('utf8'));
    assert.equal(listed.layer, 1);
    assert.equal(listed.neurons.length, kept);
    for (const n of listed.neurons) assert.ok([...n.promoted, ...n.suppressed].some((t) => t.text.toLowerCase().includes(word.toLowerCase())), JSON.stringify(n));
    await view.locator('label', { hasText: 'Block' }).locator('select').selectOption('2');
    await summary.filter({ hasText: /^Block 2: / }).waitFor({ timeout: 30_000 });
    await helpers.screenshot('decode-neurons');
  },
};
