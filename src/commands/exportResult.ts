// layerlens.exportResult: save a stored result as JSON (from the Analyses view, the active panel, or a pick).
import * as vscode from 'vscode';
import { defaultExportUri } from '../panels/manager';
import { ResultStore, type ResultSummary } from '../results/store';
import type { ShellCommand } from '../services';
import { pickResultId } from './showResults';

export const exportResult: ShellCommand = {
  id: 'layerlens.exportResult',
  async run(s, arg) {
    const id =
      resultIdOf(arg) ?? s.context.panels.open.find((p) => p.panel.active)?.stored.id ?? (await pickResultId(s, 'layerlens: export a result'));
    if (!id) return undefined;
    const stored = await s.store.get(id);
    if (!stored) throw new Error(`result ${id} no longer exists`);
    const name = `${stored.title.replace(/\s+/g, '-').toLowerCase()}.json`;
    const uri = await vscode.window.showSaveDialog({ defaultUri: defaultExportUri(name), filters: { JSON: ['json'] }, title: `Export ${stored.title}` });
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(ResultStore.serialize(stored), 'utf8'));
    s.log.info(`exported result ${id} to ${uri.fsPath}`);
    return uri.fsPath;
  },
};

/** The result id in a command argument: an id, or an Analyses view item. */
export function resultIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const id = (arg as Partial<ResultSummary> | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}
