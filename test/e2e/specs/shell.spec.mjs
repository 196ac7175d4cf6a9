// The extension shell in a real VS Code, driven as a user would: palette, side panel, status bar,
// CodeLens on a demo prompt, sidecar crash and recovery, a non-ONNX file opened as a model.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../../../tools/setup.mjs';
import { decodeFromCodeLens } from '../support.mjs';

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Palette labels ("category: title") of the contributed commands the manifest does not hide from it. */
function expectedPaletteLabels() {
  const hidden = new Set((manifest.contributes.menus?.commandPalette ?? []).filter((m) => m.when === 'false').map((m) => m.command));
  return manifest.contributes.commands.filter((c) => !hidden.has(c.command)).map((c) => `${c.category}: ${c.title}`);
}

const STATUS_NO_MODEL = 'layerlens: no model';

export default {
  async 'palette offers the contributed commands and hides the internal ones'({ helpers }) {
    const missing = [];
    for (const label of expectedPaletteLabels()) if (!(await helpers.paletteHas(label))) missing.push(label);
    assert.deepEqual(missing, [], 'commands missing from the palette');
    const internal = manifest.contributes.commands.filter((c) => /internal/i.test(c.title)).map((c) => `${c.category}: ${c.title}`);
    assert.ok(internal.length > 0, 'the manifest has internal commands');
    for (const label of internal) assert.equal(await helpers.paletteHas(label, { timeout: 1000 }), false, `${label} is in the palette`);
  },

  async 'status bar says no model is loaded'({ helpers }) {
    await helpers.waitForStatusBar(STATUS_NO_MODEL);
  },

  async 'side panel shows the model view with its welcome actions'({ page, helpers }) {
    const container = manifest.contributes.viewsContainers.activitybar[0].title;
    await page.locator(`.activitybar .action-item a[aria-label^="${container}"]`).click();
    await page.locator('.pane-header', { hasText: 'Model' }).first().waitFor();
    for (const action of ['Load Demo Model', 'Open Model Folder…']) {
      await page.locator('.welcome-view-content .monaco-button', { hasText: action }).waitFor();
    }
    await helpers.screenshot('shell-side-panel');
  },

  async 'CodeLens above a demo prompt offers the three analyses'({ helpers }) {
    await helpers.openFile('story.prompt.md');
    const titles = await helpers.codeLensTitles();
    assert.deepEqual(titles.slice(0, 3), ['Decode layers', 'Skip sweep', 'Probe readout']);
    await helpers.screenshot('shell-codelens');
  },

  async '"Open Demo Prompts" opens every demo prompt, with its CodeLens, in a new Markdown document'({ page, helpers }) {
    const bundled = readFileSync(join(root, 'demo/workspace/demo-prompts.md'), 'utf8');
    const fences = bundled.match(/^```prompt$/gm).length;
    assert.ok(fences >= 5, `${fences} prompts`);
    await helpers.runCommand('layerlens: Open Demo Prompts');
    await page.locator('.tab.active', { hasText: 'Untitled' }).waitFor();
    await page.locator('.editor-instance .view-lines', { hasText: 'layerlens demo prompts' }).first().waitFor();
    const titles = await helpers.codeLensTitles();
    assert.deepEqual(titles.slice(0, 3), ['Decode layers', 'Skip sweep', 'Probe readout']);
    // A lens on the untitled document runs like one on a file: the first prompt (the colour question).
    await decodeFromCodeLens(helpers);
    await page.locator('.tab', { hasText: 'Decode layers: One day' }).first().waitFor();
  },

  async 'loading the demo model shows it in the status bar'({ helpers }) {
    await helpers.clearNotifications();
    const text = await helpers.loadDemoModel();
    assert.ok(!text.includes(STATUS_NO_MODEL), text);
    assert.ok(helpers.sidecarProcesses().length === 1, 'one sidecar process runs');
    await helpers.screenshot('shell-model-loaded');
  },

  async 'a killed sidecar is reported and the model comes back on the next load'({ helpers }) {
    const pid = await helpers.killSidecar();
    const message = await helpers.waitForNotification(/sidecar/i);
    assert.match(message, /sidecar/i);
    await helpers.waitForStatusBar(/stopped/);
    await helpers.screenshot('shell-sidecar-killed');
    await helpers.loadDemoModel();
    const fresh = await helpers.sidecarPid({ not: pid });
    assert.notEqual(fresh, pid);
  },

  async 'a file that is not ONNX, opened as a model, gives a clear error'({ helpers }) {
    // A model folder whose config and tokenizer are real but whose .onnx file is text.
    const reference = join(root, '../shared/models/stories260K');
    if (!existsSync(reference)) helpers.skip('needs ../shared/models/stories260K for a real config and tokenizer');
    const folder = join(helpers.workspace, 'broken-model');
    mkdirSync(folder);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(reference, f), join(folder, f));
    const bogus = join(folder, 'notes.onnx');
    writeFileSync(bogus, 'these are notes, not an ONNX model\n');
    await helpers.clearNotifications();
    await helpers.runCommand('layerlens: Open Model Folder…');
    await helpers.chooseInFileDialog(bogus, 'Load Model');
    const message = await helpers.waitForNotification('Open Model Folder… failed', { timeout: 60_000 });
    assert.match(message, /notes\.onnx/, message);
    assert.match(message, /not an ONNX|protobuf|pars/i, message);
    await helpers.screenshot('shell-bad-model-error');
    assert.equal(helpers.sidecarProcesses().length, 1, 'the sidecar survived the bad file');
  },
};
