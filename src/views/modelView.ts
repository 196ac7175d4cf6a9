// "Model" side view: the loaded model, its execution provider, and its layer map (blocks with
// attention / MLP, taps and why some are unavailable).
import * as vscode from 'vscode';
import type { ModelInfo } from '../../protocol';
import type { ModelService } from '../models/service';
import { modelTree, type InfoNode } from './modelTree';

export class ModelView implements vscode.TreeDataProvider<InfoNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly models: ModelService) {
    this.disposables.push(models.onDidChange(() => this.changed.fire()));
  }

  getChildren(node?: InfoNode): InfoNode[] {
    if (node) return node.children ?? [];
    const model: ModelInfo | undefined = this.models.current ?? this.models.last;
    // No model: an empty tree shows the view's welcome content (package.json viewsWelcome).
    return model ? modelTree(model, !this.models.current) : [];
  }

  getTreeItem(node: InfoNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      node.label,
      node.children?.length ? (node.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed) : vscode.TreeItemCollapsibleState.None,
    );
    item.description = node.description;
    item.tooltip = node.tooltip;
    if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon, node.disabled ? new vscode.ThemeColor('disabledForeground') : undefined);
    return item;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

