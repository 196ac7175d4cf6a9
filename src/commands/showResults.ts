// layerlens.showResults: reopen a stored result (by id from the Analyses view, else a quick pick).
import * as vscode from 'vscode';
import type { ShellCommand } from '../services';

export const showResults: ShellCommand = {
  id: 'layerlens.showResults',
  async run(s, arg) {
    const id = typeof arg === 'string' ? arg : await pickResultId(s);
    if (!id) return undefined;
    const panel = await s.context.panels.openById(id);
    return panel.stored.id;
  },
};

/** Quick pick over stored results; undefined when none or dismissed. */
export async function pickResultId(s: Parameters<ShellCommand['run']>[0], title = 'layerlens: open a result'): Promise<string | undefined> {
  const results = await s.store.list();
  if (results.length === 0) {
    void vscode.window.showInformationMessage('layerlens: no stored results yet. Click "Decode layers" above a prompt to create one.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    results.map((r) => ({ label: r.title, description: `${r.kind} · ${r.modelName}`, detail: new Date(r.createdAt).toLocaleString(), id: r.id })),
    { title, matchOnDescription: true },
  );
  return pick?.id;
}
