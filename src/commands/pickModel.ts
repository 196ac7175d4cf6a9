// layerlens.pickModel (status bar click): demo model, configured model, or another folder.
import * as vscode from 'vscode';
import { settings } from '../config';
import type { ShellCommand } from '../services';

interface Choice extends vscode.QuickPickItem {
  path?: string;
  command?: string;
}

export const pickModel: ShellCommand = {
  id: 'layerlens.pickModel',
  async run(s) {
    const current = s.models.current;
    const choices: Choice[] = [];
    const demo = s.models.demoModelPath();
    if (demo) choices.push({ label: '$(beaker) Demo model', description: demo, path: demo });
    const configured = settings().modelPath;
    if (configured && configured !== demo) choices.push({ label: '$(gear) Configured model', description: configured, path: configured });
    choices.push({ label: '$(folder-opened) Open Model Folder…', command: 'layerlens.openModel' });
    if (current) choices.push({ label: '$(debug-restart) Restart Sidecar', description: `pid ${s.client.pid ?? '–'}`, command: 'layerlens.restartSidecar' });
    const pick = await vscode.window.showQuickPick(choices, {
      title: current ? `layerlens: ${current.name} on ${current.provider}` : 'layerlens: pick a model',
      placeHolder: 'Model to load',
    });
    if (pick?.path) return s.models.load(pick.path);
    if (pick?.command) return vscode.commands.executeCommand(pick.command);
    return undefined;
  },
};
