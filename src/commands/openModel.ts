// layerlens.openModel: pick a model folder (or .onnx file) and load it.
import * as vscode from 'vscode';
import type { ShellCommand } from '../services';

export const openModel: ShellCommand = {
  id: 'layerlens.openModel',
  async run(s, arg) {
    const uri = arg instanceof vscode.Uri ? arg : await pickModelUri();
    if (!uri) return undefined;
    return s.models.load(uri.fsPath);
  },
};

async function pickModelUri(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: 'Open Model Folder (config.json, tokenizer.json, onnx/model.onnx) or an .onnx file',
    canSelectFolders: true,
    canSelectFiles: true,
    canSelectMany: false,
    filters: { 'ONNX model': ['onnx'] },
    openLabel: 'Load Model',
  });
  return picked?.[0];
}
