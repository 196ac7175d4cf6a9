// Status bar item: the loaded model and its execution provider; click to pick a model.
import * as vscode from 'vscode';
import type { ModelInfo } from '../protocol';
import type { ModelService } from './models/service';
import type { SidecarClient } from './sidecar/client';

export class StatusDisplay implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('layerlens.model', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [this.item];

  constructor(
    private readonly models: ModelService,
    private readonly client: SidecarClient,
  ) {
    this.item.name = 'layerlens model';
    this.item.command = 'layerlens.pickModel';
    this.disposables.push(
      models.onDidChange(() => this.update()),
      client.onDidStop(() => this.update()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.update()),
    );
    this.update();
    this.item.show();
  }

  update(): void {
    const model = this.models.current;
    const last = this.models.last;
    if (!vscode.workspace.isTrusted) {
      this.set('$(workspace-untrusted) layerlens', 'Model loading is disabled in an untrusted workspace.');
    } else if (model) {
      this.set(`$(layers) ${model.name} · ${model.provider}`, tooltip(model, this.client.pid));
    } else if (last) {
      this.set(`$(debug-disconnect) ${last.name} · stopped`, 'The layerlens sidecar stopped; the model reloads on the next analysis. Click to pick a model.');
    } else {
      this.set('$(layers) layerlens: no model', 'No model loaded. Click to pick one.');
    }
  }

  private set(text: string, tip: string | vscode.MarkdownString): void {
    this.item.text = text;
    this.item.tooltip = tip;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function tooltip(m: ModelInfo, pid: number | undefined): vscode.MarkdownString {
  const lm = m.layerMap;
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${m.name}** on \`${m.provider}\`\n\n`);
  if (m.providerNote) md.appendMarkdown(`${m.providerNote}\n\n`);
  md.appendText(`${lm.numLayers} layers · d=${lm.hiddenSize} · vocab ${lm.vocabSize} · ${lm.dtype} · ${lm.graphForm}\n`);
  md.appendText(`${m.path}\n`);
  if (pid) md.appendText(`sidecar pid ${pid}\n`);
  md.appendMarkdown('\nClick to pick a model.');
  return md;
}
