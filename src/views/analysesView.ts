// "Analyses" side view: this workspace's stored results, newest first; click to reopen, inline
// export and delete.
import * as vscode from 'vscode';
import type { ResultStore, ResultSummary } from '../results/store';

const KIND_ICONS: Record<ResultSummary['kind'], string> = { decode: 'symbol-string', skip: 'debug-step-over', probe: 'telescope' };

export class AnalysesView implements vscode.TreeDataProvider<ResultSummary>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly store: ResultStore) {
    this.disposables.push(store.onDidChange(() => this.changed.fire()));
  }

  refresh(): void {
    this.changed.fire();
  }

  getChildren(node?: ResultSummary): Promise<ResultSummary[]> | ResultSummary[] {
    return node ? [] : this.store.list();
  }

  getTreeItem(r: ResultSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(r.title, vscode.TreeItemCollapsibleState.None);
    item.id = r.id;
    item.description = `${r.kind} · ${r.modelName} · ${new Date(r.createdAt).toLocaleString()}`;
    item.tooltip = `${r.title}\n${r.kind} on ${r.modelName}\n${r.createdAt}${r.promptUri ? `\n${vscode.Uri.parse(r.promptUri).fsPath}` : ''}`;
    item.iconPath = new vscode.ThemeIcon(KIND_ICONS[r.kind]);
    item.contextValue = 'result';
    item.command = { command: 'layerlens.showResults', title: 'Open', arguments: [r.id] };
    return item;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
