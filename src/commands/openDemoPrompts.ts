// layerlens.openDemoPrompts: open the bundled demo prompts (demo/workspace/demo-prompts.md, written by
// tools/demo-model/prepare.py) as a new untitled Markdown document: every prompt in a ```prompt block with
// what to try on it, so a first run needs no workspace of its own.
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import type { ShellCommand } from '../services';

export const openDemoPrompts: ShellCommand = {
  id: 'layerlens.openDemoPrompts',
  async run(s) {
    const file = vscode.Uri.joinPath(s.extension.extensionUri, 'demo', 'workspace', 'demo-prompts.md');
    let content: string;
    try {
      content = await fs.readFile(file.fsPath, 'utf8');
    } catch {
      throw new Error('the demo prompts are not bundled in this build (demo/workspace/demo-prompts.md is missing)');
    }
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
    return vscode.window.showTextDocument(doc);
  },
};
