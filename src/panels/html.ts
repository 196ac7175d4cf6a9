// The HTML page of a result panel: strict CSP with a per-load nonce, one script (out/webview.js).
// Pure (no `vscode`) so the CSP can be tested.
import { randomBytes } from 'node:crypto';
import type { PanelKind } from '../../protocol';

export interface PanelPage {
  /** webview.cspSource */
  cspSource: string;
  /** webview URI of out/webview.js */
  scriptUri: string;
  kind: PanelKind;
  title: string;
  resultId: string;
  nonce?: string;
}

export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Content-Security-Policy of a panel. Style elements: the shell's CSS and the web components' styles
 * are constructable stylesheets (not governed by style-src), so <style> and <link> need the nonce or
 * the webview origin. Style attributes are allowed (style-src-attr): echarts' HTML tooltips carry
 * style="…" markup, which Chromium otherwise blocks (checked with the panel page in Chromium).
 */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    `img-src ${cspSource} data: blob:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function panelHtml(page: PanelPage): string {
  const nonce = page.nonce ?? newNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(panelCsp(page.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(page.title)}</title>
</head>
<body data-kind="${escapeHtml(page.kind)}" data-result-id="${escapeHtml(page.resultId)}">
<main id="layerlens-root" aria-live="polite"></main>
<script nonce="${nonce}" src="${escapeHtml(page.scriptUri)}"></script>
</body>
</html>`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
