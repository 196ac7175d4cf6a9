// Helpers handed to every E2E test as `helpers`: drive the real VS Code workbench (code-server in
// headless chromium) the way a user does, and look at the processes behind it.
import { mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { groupProcesses, extensionHostLog } from '../../tools/code-server.mjs';

/** Thrown by `helpers.skip()`: the driver counts the test as skipped, not failed. */
export class SkipTest extends Error {}

const QUICK_INPUT = '.quick-input-widget';

/**
 * @param {{ page: import('playwright-core').Page, server: { pgid: number }, profile: { userData: string },
 *   workspace: string, resultsDir: string, extensionId: string }} env
 */
export function makeHelpers({ page, server, profile, workspace, resultsDir, extensionId }) {
  mkdirSync(resultsDir, { recursive: true });

  const h = {
    page, workspace, resultsDir,

    /** Marks the running test as skipped (throws). */
    skip(reason) { throw new SkipTest(reason); },

    /** Opens the command palette, picks the command by its title (e.g. "layerlens: Load Demo Model"), runs it. */
    async runCommand(title, { timeout = 30_000 } = {}) {
      // Retried with a fresh palette: right after startup a command can be missing from the palette for a
      // moment (its enablement context is not evaluated yet), and the palette does not refresh by itself.
      const until = Date.now() + timeout;
      for (;;) {
        await h.closeQuickInput();
        await page.keyboard.press('F1');
        const input = page.locator(`${QUICK_INPUT} input`);
        await input.waitFor({ state: 'visible', timeout });
        await input.fill(`>${title}`);
        const row = h.paletteRow(title);
        const left = until - Date.now();
        const found = await row.waitFor({ state: 'visible', timeout: Math.max(1_000, Math.min(5_000, left)) }).then(() => true, () => false);
        if (found) {
          await row.click();
          break;
        }
        if (Date.now() >= until) throw new Error(`the palette never offered "${title}"`);
        await page.waitForTimeout(1_000);
      }
      // The palette closes at once; a command that asks something opens a new quick pick in its place, so
      // do not wait long for "hidden" (a quick pick left waiting can lose focus and close).
      await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout: 3_000 }).catch(() => {});
    },

    /** Palette rows whose label is exactly `title` (use after typing into the palette). */
    paletteRow(title) {
      return page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`)
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(title)}$`) }) }).first();
    },

    /** Whether the palette offers a command with exactly this label (the palette is left closed). */
    async paletteHas(label, { timeout = 3_000 } = {}) {
      await h.closeQuickInput();
      await page.keyboard.press('F1');
      const input = page.locator(`${QUICK_INPUT} input`);
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${label}`);
      const found = await h.paletteRow(label).waitFor({ state: 'visible', timeout }).then(() => true, () => false);
      await h.closeQuickInput();
      return found;
    },

    /** Closes the palette / quick pick if it is open. */
    async closeQuickInput() {
      if (await page.locator(QUICK_INPUT).isVisible()) {
        await page.keyboard.press('Escape');
        await page.locator(QUICK_INPUT).waitFor({ state: 'hidden' });
      }
    },

    /** Opens a workspace file by its path relative to the workspace (Quick Open), waits for its tab. */
    async openFile(relPath, { timeout = 15_000 } = {}) {
      await h.closeQuickInput();
      await page.keyboard.press('Control+P');
      const input = page.locator(`${QUICK_INPUT} input`);
      await input.waitFor({ state: 'visible', timeout });
      await input.fill(relPath);
      const name = relPath.split('/').pop();
      const row = page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`).filter({ hasText: name }).first();
      await row.waitFor({ state: 'visible', timeout });
      await page.keyboard.press('Enter');
      await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout });
      await page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout });
    },

    /** The CodeLens link with this title (first match) in the visible editor. */
    codeLens(title) {
      return page.locator('.codelens-decoration a', { hasText: title }).first();
    },

    /** Titles of all CodeLens links in the visible editor, once at least one has rendered. */
    async codeLensTitles({ timeout = 20_000 } = {}) {
      await page.locator('.codelens-decoration a').first().waitFor({ timeout });
      return (await page.locator('.codelens-decoration a').allInnerTexts()).map((t) => t.trim());
    },

    /** Clicks a CodeLens by title. */
    async clickCodeLens(title, { timeout = 20_000 } = {}) {
      const lens = h.codeLens(title);
      await lens.waitFor({ state: 'visible', timeout });
      await lens.click();
    },

    /**
     * Frame locator for the content of the visible webview (panel or view); with several visible, the
     * last opened. To pick a panel, activate its editor tab first (`activateTab`).
     */
    webview() {
      return page.locator('iframe.webview.ready').filter({ visible: true }).last()
        .contentFrame().frameLocator('iframe#active-frame');
    },

    /** Activates the editor tab whose label contains `title`. */
    async activateTab(title) {
      const tab = page.locator('.tabs-container .tab', { hasText: title }).first();
      await tab.waitFor();
      await tab.click();
    },

    /**
     * Picks `path` in VS Code's simple file dialog (what code-server shows for open/save dialogs): types the
     * path once the dialog has filled in its start folder, waits for the listing, presses `button`.
     */
    async chooseInFileDialog(path, button) {
      const input = page.locator(`${QUICK_INPUT} input`);
      await input.waitFor({ state: 'visible' });
      const until = Date.now() + 10_000;
      while (!(await input.inputValue()).startsWith('/') && Date.now() < until) await page.waitForTimeout(100);
      for (let i = 0; i < 3 && (await input.inputValue()) !== path; i++) {
        await input.fill(path);
        await page.waitForTimeout(500);
      }
      const name = path.replace(/\/$/, '').split('/').pop();
      if (!path.endsWith('/')) await page.locator(`${QUICK_INPUT} .quick-input-list .monaco-list-row`, { hasText: name }).first().waitFor();
      else await page.waitForTimeout(1000); // the dialog lists the folder before it accepts it
      await page.locator(`${QUICK_INPUT} .monaco-button`, { hasText: button }).click();
    },

    /**
     * Loads a model folder (or .onnx file) the way a user does: "Open Model Folder…", the path in the file
     * dialog, "Load Model"; waits for the status bar to show it and returns that text.
     */
    async openModel(path, { timeout = 90_000 } = {}) {
      await h.runCommand('layerlens: Open Model Folder…');
      await h.chooseInFileDialog(path.endsWith('.onnx') ? path : `${path.replace(/\/$/, '')}/`, 'Load Model');
      return h.withoutErrors(() => h.waitForStatusBar(/ · (cpu|webgpu|cuda)/, { timeout }));
    },

    /** "Load Demo Model" from the palette; waits for the status bar to show it. Returns that text. */
    async loadDemoModel({ timeout = 90_000 } = {}) {
      await h.runCommand('layerlens: Load Demo Model');
      return h.withoutErrors(() => h.waitForStatusBar(/ · (cpu|webgpu|cuda)/, { timeout }));
    },

    /** Waits until a status bar item with this text (string or RegExp) is visible; returns its full text. */
    async waitForStatusBar(text, { timeout = 30_000 } = {}) {
      const item = page.locator('.statusbar-item', { hasText: text }).first();
      await item.waitFor({ state: 'visible', timeout });
      return (await item.innerText()).trim();
    },

    /** Texts of the notification toasts now visible (only on a server without the smoke-test driver). */
    async notifications() {
      return (await page.locator('.notifications-toasts .notification-toast .notification-list-item-message')
        .allInnerTexts()).map((t) => t.trim());
    },

    /** Waits for a toast whose message matches `text` (string or RegExp); returns its message. */
    async waitForNotification(text, { timeout = 30_000 } = {}) {
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
      await toast.waitFor({ state: 'visible', timeout });
      return (await toast.locator('.notification-list-item-message').innerText()).trim();
    },

    /**
     * Runs `fn`, failing at once with the message of any error notification that appears meanwhile
     * (instead of waiting for `fn` to time out).
     */
    async withoutErrors(fn) {
      const error = page.locator('.notifications-toasts .notification-toast', { has: page.locator('.codicon-error') }).first();
      let stop = false;
      const watch = (async () => {
        while (!stop) {
          if (await error.isVisible()) throw new Error(`error notification: ${await error.locator('.notification-list-item-message').innerText()}`);
          await page.waitForTimeout(200);
        }
      })();
      try {
        return await Promise.race([fn(), watch]);
      } finally {
        stop = true;
        await watch.catch(() => {});
      }
    },

    /** Closes all visible toasts (so later waits see only new ones). */
    async clearNotifications() {
      await h.runCommand('Notifications: Clear All Notifications');
    },

    /** Saves a full-page screenshot to test-results/e2e/<name>.png and returns the path. */
    async screenshot(name) {
      const file = join(resultsDir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
      await page.screenshot({ path: file });
      return file;
    },

    /** Processes of the extension's sidecar (node processes running out/sidecar.js) under this server. */
    sidecarProcesses() {
      return groupProcesses(server.pgid, 'sidecar.js');
    },

    /** Waits for exactly one sidecar process and returns its pid. */
    async sidecarPid({ timeout = 30_000, not } = {}) {
      const until = Date.now() + timeout;
      for (;;) {
        const pids = h.sidecarProcesses().map((p) => p.pid).filter((p) => p !== not);
        if (pids.length === 1) return pids[0];
        if (Date.now() > until) throw new Error(`expected one sidecar process, found ${JSON.stringify(h.sidecarProcesses())}`);
        await page.waitForTimeout(250);
      }
    },

    /** SIGKILLs the sidecar process and returns the pid it had. */
    async killSidecar() {
      const pid = await h.sidecarPid();
      process.kill(pid, 'SIGKILL');
      return pid;
    },

    /** The extension host log of this session (activation lines, errors). */
    extensionHostLog() { return extensionHostLog(profile); },

    /** Text of the extension's output channel (named `channel`), or '' if it has not written yet. */
    outputChannel(channel = 'layerlens') {
      const logs = join(profile.userData, 'logs');
      let text = '';
      for (const f of walk(logs)) if (f.endsWith(`-${channel}.log`)) text += readFileSync(f, 'utf8');
      return text;
    },

    /** Waits until the extension has been activated in the extension host. */
    async waitForActivation({ timeout = 60_000 } = {}) {
      const until = Date.now() + timeout;
      const marker = `_doActivateExtension ${extensionId}`;
      while (!h.extensionHostLog().includes(marker)) {
        if (Date.now() > until) throw new Error(`extension ${extensionId} was not activated within ${timeout / 1000} s`);
        await page.waitForTimeout(250);
      }
    },
  };
  return h;
}

function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

function* walk(dir) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p); else yield p;
  }
}
