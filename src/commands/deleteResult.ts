// layerlens.deleteResult: delete a stored result (Analyses view inline action), closing its panel.
import * as vscode from 'vscode';
import type { ShellCommand } from '../services';
import { resultIdOf } from './exportResult';
import { pickResultId } from './showResults';

export const deleteResult: ShellCommand = {
  id: 'layerlens.deleteResult',
  async run(s, arg) {
    const id = resultIdOf(arg) ?? (await pickResultId(s, 'layerlens: delete a result'));
    if (!id) return false;
    s.context.panels.closeResult(id);
    return s.store.delete(id);
  },
};
