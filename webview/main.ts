// Webview shell: reads the panel kind, mounts that kind's view (webview/views.ts), implements the
// ViewHost, dispatches host messages, shows progress / errors / staleness, follows theme changes.
import type { HostToWebview, PanelKind } from '../protocol';
import type { ViewInit, ViewInstance } from './api';
import { createFrame } from './shell/frame';
import { createHost } from './shell/host';
import { onThemeChange } from './shell/theme';
import css from './style.css';
import { views } from './views';

const api = acquireVsCodeApi();
const kind = document.body.dataset.kind as PanelKind;
const resultId = document.body.dataset.resultId ?? '';
const root = document.getElementById('layerlens-root')!;

adoptCss(css);
const host = createHost(api, resultId, () => host.post({ type: 'rerun' }));
const frame = createFrame(root, () => host.rerun());
let view: ViewInstance | undefined;
let current: ViewInit | undefined;

window.addEventListener('message', (e: MessageEvent<HostToWebview>) => {
  try {
    dispatch(e.data);
  } catch (err) {
    frame.showError(`The ${kind} view failed: ${err instanceof Error ? err.message : String(err)}`);
    console.error(err);
  }
});
window.addEventListener('error', (e) => frame.showError(`Error in the ${kind} view: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => frame.showError(`Error in the ${kind} view: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`));
onThemeChange(() => view?.themeChanged?.());
host.post({ type: 'ready' });

function dispatch(msg: HostToWebview): void {
  switch (msg.type) {
    case 'init': {
      const init: ViewInit = { kind: msg.kind, title: msg.title, result: msg.result, link: msg.link, stale: msg.stale };
      show(init);
      return;
    }
    case 'result':
      if (current) show({ ...current, result: msg.result, stale: false });
      return;
    case 'progress':
      frame.setProgress(msg.fraction, msg.message);
      view?.progress?.(msg.fraction, msg.message, msg.partial);
      return;
    case 'editorCursor':
      view?.editorCursor(msg.tokenIndex);
      return;
    case 'stale':
      if (current) current = { ...current, stale: msg.stale };
      frame.setStale(msg.stale);
      view?.setStale(msg.stale);
      return;
    case 'error':
      frame.setProgress(null);
      frame.showError(msg.message);
      return;
    case 'reply':
      host.settle(msg);
      return;
  }
}

function show(init: ViewInit): void {
  current = init;
  frame.setTitle(init.title);
  frame.setStale(init.stale);
  frame.setProgress(null);
  frame.showError(null);
  if (view) {
    view.update(init);
    return;
  }
  const module = views[init.kind];
  if (!module) {
    frame.showError(`No view for "${init.kind}" results in this build.`);
    return;
  }
  view = module.mount(frame.viewRoot, host, init);
}

/** Applies the shell's CSS as a constructable stylesheet (not governed by the CSP's style-src). */
function adoptCss(text: string): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(text);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
