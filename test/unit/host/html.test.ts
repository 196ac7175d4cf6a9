// The panel page: strict CSP with a nonce, escaping, the kind and result id for the shell.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newNonce, panelCsp, panelHtml } from '../../../src/panels/html';

function cspOf(html: string): Map<string, string[]> {
  const content = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)![1].replace(/&#39;/g, "'");
  return new Map(content.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
}

describe('panel page', () => {
  const page = { cspSource: 'https://file+.vscode-resource.vscode-cdn.net', scriptUri: 'https://x/out/webview.js', kind: 'decode' as const, title: 'Decode <b>"x"</b>', resultId: 'lz0-0123abcd', nonce: 'abc123' };

  it('allows only the nonce-carrying script, no inline or eval', () => {
    const csp = cspOf(panelHtml(page));
    assert.deepEqual(csp.get('default-src'), ["'none'"]);
    assert.deepEqual(csp.get('script-src'), ["'nonce-abc123'"]);
    assert.ok(!csp.get('style-src')!.includes("'unsafe-inline'"), 'no inline <style> elements');
    assert.deepEqual(csp.get('style-src-attr'), ["'unsafe-inline'"], 'style attributes (echarts tooltips)');
    assert.deepEqual(csp.get('img-src'), [page.cspSource, 'data:', 'blob:']);
    for (const v of csp.values()) assert.ok(!v.includes("'unsafe-eval'"));
    const scripts = [...panelHtml(page).matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    assert.equal(scripts.length, 1);
    assert.match(scripts[0], /nonce="abc123"/);
    assert.match(scripts[0], /src="https:\/\/x\/out\/webview.js"/);
  });

  it('escapes the title and carries kind and result id as data attributes', () => {
    const html = panelHtml(page);
    assert.ok(!html.includes('<b>'));
    assert.match(html, /<title>Decode &lt;b&gt;&quot;x&quot;&lt;\/b&gt;<\/title>/);
    assert.match(html, /data-kind="decode"/);
    assert.match(html, /data-result-id="lz0-0123abcd"/);
  });

  it('uses a fresh unguessable nonce per page', () => {
    const a = newNonce();
    const b = newNonce();
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]{22}$/);
    assert.match(panelCsp('src', a), new RegExp(`'nonce-${a}'`));
  });
});
