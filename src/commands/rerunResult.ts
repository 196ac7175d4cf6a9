// layerlens.rerunResult (result panel title bar; not in the palette): re-run the active panel's
// analysis, else of an open panel picked from a list.
import * as vscode from 'vscode';
import type { ShellCommand } from '../services';

export const rerunResult: ShellCommand = {
  id: 'layerlens.rerunResult',
  async run(s) {
    const open = s.context.panels.open;
    let panel = open.find((p) => p.panel.active);
    if (!panel && open.length > 0) {
      const pick = await vscode.window.showQuickPick(
        open.map((p) => ({ label: p.stored.title, description: `${p.kind}${p.link.stale ? ' · stale' : ''}`, panel: p })),
        { title: 'layerlens: re-run which result?' },
      );
      panel = pick?.panel;
    } else if (!panel) {
      void vscode.window.showInformationMessage('layerlens: no result panel is open. Reopen one from the Analyses view first.');
    }
    if (panel) await s.context.rerun(panel);
  },
};
