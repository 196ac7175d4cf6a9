// The webview shell in Chromium under the panel's real CSP: mounts the view for the page's kind,
// dispatches host messages, request/reply, persisted state with the result id, echarts drawing,
// tooltips and PNG/SVG export without CSP violations. Skipped when Chromium is not installed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { panelHtml } from '../../../src/panels/html';

const CHROMIUM = '/usr/bin/chromium';

describe('webview shell in Chromium', { skip: !existsSync(CHROMIUM) && 'no Chromium at /usr/bin/chromium' }, () => {
  let server: http.Server;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    const bundle = await esbuild.build({
      stdin: { contents: `import './fixtures/webview-entry'; import '../../../webview/main';`, resolveDir: __dirname, loader: 'ts' },
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      loader: { '.css': 'text' },
      logLevel: 'silent',
    });
    const js = bundle.outputFiles[0].text;
    server = http.createServer((req, res) => {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      if (req.url === '/webview.js') {
        res.setHeader('content-type', 'text/javascript');
        res.end(js);
        return;
      }
      const nonce = 'n0nce-for-test';
      // Stand-in for VS Code's injected API: records posts, answers 'ready' with 'init' and 'request' with 'reply'.
      const api = `<script nonce="${nonce}">
        window.posted = []; window.saved = undefined;
        window.acquireVsCodeApi = () => ({
          postMessage(m) {
            window.posted.push(m);
            if (m.type === 'ready') setTimeout(() => window.postMessage({ type: 'init', kind: 'decode', title: 'Decode: Once', result: {}, stale: false }, '*'));
            if (m.type === 'request') setTimeout(() => window.postMessage({ type: 'reply', requestId: m.requestId, ok: true, value: { echoed: m.params } }, '*'));
          },
          getState() { return window.saved; },
          setState(s) { window.saved = s; },
        });
      </script>`;
      const html = panelHtml({ cspSource: origin, scriptUri: `${origin}/webview.js`, kind: 'decode', title: 'Decode: Once', resultId: 'lz0-0123abcd', nonce });
      res.setHeader('content-type', 'text/html');
      res.end(html.replace('<main', `${api}<main`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => (window as unknown as { probe: { reply?: unknown } }).probe.reply !== undefined, undefined, { timeout: 20_000 });
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  it('mounts the view of the page kind, answers requests, persists state with the result id', async () => {
    const s = await page.evaluate(() => ({ probe: (window as any).probe, saved: (window as any).saved, posted: (window as any).posted }));
    assert.deepEqual(s.probe.calls, ['mount Decode: Once stale=false']);
    assert.deepEqual(s.probe.reply, { echoed: { x: 1 } });
    assert.deepEqual(s.saved, { resultId: 'lz0-0123abcd', view: { zoom: 2 } });
    assert.equal(s.posted[0].type, 'ready');
    assert.equal(await page.title(), 'Decode: Once');
    assert.ok(await page.locator('canvas').count() > 0, 'echarts drew on a canvas');
  });

  it('dispatches cursor, staleness, progress, errors and re-init to the view and frame', async () => {
    await page.evaluate(() => {
      window.postMessage({ type: 'editorCursor', tokenIndex: 3 }, '*');
      window.postMessage({ type: 'stale', stale: true }, '*');
      window.postMessage({ type: 'progress', fraction: 0.4, message: 'layer 2 of 5' }, '*');
    });
    await page.waitForFunction(() => (window as any).probe.calls.length >= 3);
    assert.deepEqual((await page.evaluate(() => (window as any).probe.calls)).slice(1), ['cursor 3', 'stale true']);
    assert.equal(await page.locator('.ll-stale').isVisible(), true);
    assert.equal(await page.locator('.ll-progress-text').textContent(), 'layer 2 of 5');
    await page.locator('.ll-stale vscode-button').click();
    assert.ok((await page.evaluate(() => (window as any).posted)).some((m: { type: string }) => m.type === 'rerun'));
    await page.evaluate(() => window.postMessage({ type: 'error', message: 'sidecar stopped' }, '*'));
    await page.waitForSelector('.ll-error:not([hidden])');
    assert.equal(await page.locator('.ll-error').textContent(), 'sidecar stopped');
    assert.equal(await page.locator('.ll-progress-text').isVisible(), false);
    await page.evaluate(() => window.postMessage({ type: 'init', kind: 'decode', title: 'Decode: re-run', result: {}, stale: false }, '*'));
    await page.waitForFunction(() => (window as any).probe.calls.includes('update Decode: re-run'));
    assert.equal(await page.locator('.ll-stale').isVisible(), false);
    assert.equal(await page.locator('.ll-error').isVisible(), false);
  });

  it('follows theme changes and exports PNG and SVG through the host', async () => {
    await page.evaluate(() => (document.body.className = 'vscode-dark'));
    await page.waitForFunction(() => (window as any).probe.calls.includes('theme'));
    await page.getByText('Export PNG').click();
    await page.getByText('Export SVG').click();
    const exports = (await page.evaluate(() => (window as any).posted)).filter((m: { type: string }) => m.type === 'export');
    assert.deepEqual(exports.map((m: { format: string; encoding: string; suggestedName: string }) => [m.format, m.encoding, m.suggestedName]), [
      ['png', 'base64', 'probe.png'],
      ['svg', 'utf8', 'probe.svg'],
    ]);
    const png = Buffer.from(exports[0].data, 'base64');
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.match(exports[1].data, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(exports[1].data, /<\/svg>$/);
  });

  it('is keyboard reachable and shows tooltips without any CSP violation', async () => {
    await page.locator('.ll-title').click(); // sequential focus navigation starts at the top
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => `${document.activeElement?.tagName} ${document.activeElement?.textContent}`), 'VSCODE-BUTTON Export PNG');
    const box = (await page.locator('.ll-chart').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.4);
    await page.mouse.move(box.x + box.width * 0.6 + 5, box.y + box.height * 0.4 + 5);
    await page.locator('b', { hasText: /^layer \d$/ }).waitFor({ state: 'visible', timeout: 5000 });
    assert.deepEqual(await page.evaluate(() => (window as any).probe.violations), []);
    assert.deepEqual(errors, []);
  });
});

