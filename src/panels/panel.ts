// One webview panel class for every result kind: page with strict CSP, typed messages
// (protocol/webview.ts), prompt linking, and a message log for tests.
import * as vscode from 'vscode';
import type { HostToWebview, WebviewToHost } from '../../protocol';
import type { StoredResult } from '../features/api';
import { panelHtml } from './html';
import { PromptLink } from './promptLink';

export const PANEL_VIEW_TYPE = 'layerlens.result';

/** What a panel asks of the panel manager. */
export interface PanelHandlers {
  request(panel: ResultPanel, method: string, params: unknown): Promise<unknown>;
  rerun(panel: ResultPanel): Promise<void>;
  export(panel: ResultPanel, msg: Extract<WebviewToHost, { type: 'export' }>): Promise<void>;
  disposed(panel: ResultPanel): void;
}

/** A message as kept for `layerlens._testState`. */
export interface LoggedMessage {
  dir: 'toWebview' | 'fromWebview';
  type: string;
  at: number;
  /** The message itself, without bulky results. */
  summary: Record<string, unknown>;
}

const LOG_SIZE = 50;

export class ResultPanel implements vscode.Disposable {
  private storedResult: StoredResult;
  private ready = false;
  readonly link: PromptLink;
  readonly messages: LoggedMessage[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    stored: StoredResult,
    private readonly extensionUri: vscode.Uri,
    private readonly handlers: PanelHandlers,
  ) {
    this.storedResult = stored;
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'out')],
    };
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'layerlens.svg');
    this.link = new PromptLink(stored, {
      onStale: (stale) => this.post({ type: 'stale', stale }),
      onCursor: (tokenIndex) => this.post({ type: 'editorCursor', tokenIndex }),
    });
    this.disposables.push(
      this.link,
      panel.webview.onDidReceiveMessage((m: WebviewToHost) => this.receive(m)),
      panel.onDidDispose(() => this.dispose()),
    );
    this.render();
  }

  get stored(): StoredResult {
    return this.storedResult;
  }

  get kind() {
    return this.storedResult.kind;
  }

  /** Shows a new result (re-run) in this panel. */
  setResult(stored: StoredResult): void {
    const kindChanged = stored.kind !== this.storedResult.kind;
    this.storedResult = stored;
    this.link.reset(stored);
    this.panel.title = stored.title;
    if (kindChanged) this.render();
    else this.postInit();
  }

  post(msg: HostToWebview): void {
    this.logMessage('toWebview', msg);
    if (this.ready) void this.panel.webview.postMessage(msg);
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  dispose(): void {
    if (this.disposables.length === 0) return;
    this.link.highlight(null);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    this.handlers.disposed(this);
  }

  private render(): void {
    this.ready = false;
    const webview = this.panel.webview;
    this.panel.title = this.storedResult.title;
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'out', 'webview.js')).toString(),
      kind: this.storedResult.kind,
      title: this.storedResult.title,
      resultId: this.storedResult.id,
    });
  }

  private postInit(): void {
    const s = this.storedResult;
    this.post({
      type: 'init',
      kind: s.kind,
      title: s.title,
      result: s.result,
      link: s.prompt ? { uri: s.prompt.uri, startOffset: s.prompt.startOffset, text: s.prompt.text } : undefined,
      stale: this.link.stale,
    });
  }

  /** Handles a message from the webview (also called by the layerlens._testPanelMessage test hook). */
  receive(msg: WebviewToHost): void {
    this.logMessage('fromWebview', msg);
    switch (msg.type) {
      case 'ready':
        // Also after the panel was hidden and shown again: the page reloads (no retainContextWhenHidden).
        this.ready = true;
        this.postInit();
        return;
      case 'hoverToken':
        this.link.highlight(msg.tokenIndex);
        return;
      case 'selectToken':
        void this.link.select(msg.tokenIndex);
        return;
      case 'rerun':
        void this.handlers.rerun(this);
        return;
      case 'export':
        void this.handlers.export(this, msg);
        return;
      case 'request':
        this.handlers.request(this, msg.method, msg.params).then(
          (value) => this.post({ type: 'reply', requestId: msg.requestId, ok: true, value }),
          (e: unknown) => this.post({ type: 'reply', requestId: msg.requestId, ok: false, error: e instanceof Error ? e.message : String(e) }),
        );
        return;
    }
  }

  private logMessage(dir: LoggedMessage['dir'], msg: HostToWebview | WebviewToHost): void {
    const summary: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(msg)) if (k !== 'result' && k !== 'partial' && k !== 'value' && k !== 'data') summary[k] = v;
    this.messages.push({ dir, type: msg.type, at: Date.now(), summary });
    if (this.messages.length > LOG_SIZE) this.messages.shift();
  }
}
