// layerlens.probeAddToSet: the editor selection becomes a labelled span in the workspace probe set
// (.layerlens/probe-set.jsonl: {"text": the selected lines, "label": …, "span": [start, end]}).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';

export const PROBE_SET = path.join('.layerlens', 'probe-set.jsonl');

async function existingLabels(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const labels = new Set<string>();
  for (const line of text.split('\n')) {
    try {
      const label = (JSON.parse(line) as { label?: unknown }).label;
      if (typeof label === 'string') labels.add(label);
    } catch {
      // not a JSON line: the data set parser reports it when training
    }
  }
  return [...labels].sort();
}

export async function probeAddToSet(arg?: unknown): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) {
    void vscode.window.showWarningMessage('layerlens: select the text to add to the probe set.');
    return;
  }
  const folder = vscode.workspace.getWorkspaceFolder(editor.document.uri) ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showWarningMessage('layerlens: open a folder first; the probe set lives in the workspace.');
    return;
  }
  const file = path.join(folder.uri.fsPath, PROBE_SET);
  let label = (arg as { label?: unknown } | undefined)?.label;
  if (typeof label !== 'string') {
    const NEW = '$(add) New label…';
    const pick = await vscode.window.showQuickPick([...(await existingLabels(file)), NEW], { title: 'Label for the selected span' });
    if (!pick) return;
    label = pick === NEW ? await vscode.window.showInputBox({ title: 'New label', validateInput: (v) => (v.trim() ? undefined : 'A label cannot be empty') }) : pick;
    if (typeof label !== 'string' || !label.trim()) return;
  }
  const doc = editor.document;
  const sel = editor.selection;
  const context = new vscode.Range(sel.start.line, 0, sel.end.line, doc.lineAt(sel.end.line).text.length);
  const base = doc.offsetAt(context.start);
  const row = { text: doc.getText(context), label: label.trim(), span: [doc.offsetAt(sel.start) - base, doc.offsetAt(sel.end) - base] };
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.appendFile(file, `${JSON.stringify(row)}\n`);
  void vscode.window.showInformationMessage(`layerlens: added to ${PROBE_SET} as "${row.label}".`);
}
