// Result panels survive a window reload: the serializer restores them from the result store.
import assert from 'node:assert/strict';

export default {
  async 'a decode panel is restored after Reload Window'({ page, helpers }) {
    await helpers.loadDemoModel();
    await helpers.openFile('story.prompt.md');
    await helpers.clickCodeLens('Decode layers');
    const before = helpers.webview().locator('.ll-heatmap').first();
    await before.locator('canvas').waitFor({ timeout: 90_000 });
    const gridBefore = await before.getAttribute('aria-label');
    await helpers.screenshot('panel-before-reload');
    await helpers.runCommand('Developer: Reload Window');
    await page.waitForTimeout(3000);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const tab = page.locator('.tab', { hasText: 'Decode layers' }).first();
    await tab.waitFor({ timeout: 60_000 });
    await tab.click();
    const after = helpers.webview().locator('.ll-heatmap').first();
    await after.locator('canvas').waitFor({ timeout: 60_000 });
    assert.match(await helpers.webview().locator('.ll-title').first().textContent(), /Decode layers/);
    assert.equal(await after.getAttribute('aria-label'), gridBefore, 'the restored heatmap shows the same grid');
    await helpers.screenshot('panel-after-reload');
  },
};
