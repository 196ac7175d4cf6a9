// Opens, reuses and restores result panels: one per result (a re-run or a new analysis of the same
// prompt and kind reuses the panel), a serializer so panels come back after a reload, export of
// webview files through a save dialog.
import * as vscode from 'vscode';
import type { WebviewToHost } from '../../protocol';
import type { StoredResult } from '../features/api';
import type { ResultStore } from '../results/store';
import { escapeHtml } from './html';
import { PANEL_VIEW_TYPE, ResultPanel, type PanelHandlers } from './panel';

/** What the panel manager needs from the feature layer. */
export interface PanelServices {
  /** Answers a feature-private webview request. */
  webviewRequest(stored: StoredResult, method: string, params: unknown): Promise<unknown>;
  /** Re-runs the panel's request and shows the new result in it. */
  rerun(panel: ResultPanel): Promise<void>;
}

/** State the webview shell persists with vscode.setState (see webview/shell/host.ts). */
interface PersistedState {
  resultId?: unknown;
}

export class PanelManager implements vscode.Disposable {
  private readonly panels = new Set<ResultPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly handlers: PanelHandlers;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: ResultStore,
    private readonly log: vscode.LogOutputChannel,
    services: PanelServices,
  ) {
    this.handlers = {
      request: (panel, method, params) => services.webviewRequest(panel.stored, method, params),
      rerun: (panel) => services.rerun(panel),
      export: (panel, msg) => this.exportFile(panel, msg),
      disposed: (panel) => this.panels.delete(panel),
    };
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
        deserializeWebviewPanel: (panel, state: PersistedState | undefined) => this.restore(panel, state),
      }),
    );
  }

  /** All open panels. */
  get open(): readonly ResultPanel[] {
    return [...this.panels];
  }

  /**
   * Shows a result: reveals its panel, or reuses the panel of the same analysis (kind and sidecar
   * method) of the same prompt, or opens a new one.
   */
  show(stored: StoredResult): ResultPanel {
    const sameAnalysis = (p: ResultPanel) =>
      p.kind === stored.kind &&
      p.stored.request.method === stored.request.method &&
      !!stored.prompt &&
      p.stored.prompt?.uri === stored.prompt.uri &&
      p.stored.prompt.startOffset === stored.prompt.startOffset;
    const existing = this.open.find((p) => p.stored.id === stored.id) ?? this.open.find(sameAnalysis);
    if (existing) {
      existing.setResult(stored);
      existing.reveal();
      return existing;
    }
    const webviewPanel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      stored.title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableFindWidget: true },
    );
    return this.adopt(webviewPanel, stored);
  }

  /** Opens a stored result by id. */
  async openById(id: string): Promise<ResultPanel> {
    const open = this.open.find((p) => p.stored.id === id);
    if (open) {
      open.reveal();
      return open;
    }
    const stored = await this.store.get(id);
    if (!stored) throw new Error(`layerlens result ${id} no longer exists`);
    return this.show(stored);
  }

  /** Closes the panels showing a deleted result. */
  closeResult(id: string): void {
    for (const p of this.open) if (p.stored.id === id) p.dispose();
  }

  dispose(): void {
    for (const p of this.open) p.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private adopt(webviewPanel: vscode.WebviewPanel, stored: StoredResult): ResultPanel {
    const panel = new ResultPanel(webviewPanel, stored, this.extensionUri, this.handlers);
    this.panels.add(panel);
    return panel;
  }

  private async restore(webviewPanel: vscode.WebviewPanel, state: PersistedState | undefined): Promise<void> {
    const id = typeof state?.resultId === 'string' ? state.resultId : undefined;
    const stored = id ? await this.store.get(id).catch((e: Error) => (this.log.warn(e.message), undefined)) : undefined;
    if (stored) {
      this.adopt(webviewPanel, stored);
      return;
    }
    this.log.info(`could not restore a layerlens panel: result ${id ?? '(unknown)'} is gone`);
    webviewPanel.webview.html = `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body><p>${escapeHtml(
      'This layerlens result no longer exists. Run the analysis again from the prompt.',
    )}</p></body></html>`;
  }

  private async exportFile(panel: ResultPanel, msg: Extract<WebviewToHost, { type: 'export' }>): Promise<void> {
    const uri = await vscode.window.showSaveDialog({
      defaultUri: defaultExportUri(msg.suggestedName),
      filters: { [msg.format.toUpperCase()]: [msg.format] },
      title: `Export ${panel.stored.title}`,
    });
    if (!uri) return;
    try {
      await vscode.workspace.fs.writeFile(uri, Buffer.from(msg.data, msg.encoding === 'base64' ? 'base64' : 'utf8'));
      this.log.info(`exported ${msg.format} to ${uri.fsPath}`);
    } catch (e) {
      void vscode.window.showErrorMessage(`layerlens: could not write ${uri.fsPath}: ${(e as Error).message}`);
    }
  }
}

/** A file name in the first workspace folder (or the home folder), with unsafe characters replaced. */
export function defaultExportUri(name: string): vscode.Uri | undefined {
  const safe = name.replace(/[\\/:*?"<>|\x00-\x1f]+/g, '_').slice(0, 120) || 'layerlens-export';
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder ? vscode.Uri.joinPath(folder, safe) : undefined;
}
