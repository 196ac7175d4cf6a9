// Every shell command, one module each.
import type { ShellCommand } from '../services';
import { deleteResult } from './deleteResult';
import { exportResult } from './exportResult';
import { loadDemoModel } from './loadDemoModel';
import { openDemoPrompts } from './openDemoPrompts';
import { openModel } from './openModel';
import { pickModel } from './pickModel';
import { refreshResults } from './refreshResults';
import { rerunResult } from './rerunResult';
import { restartSidecar } from './restartSidecar';
import { showResults } from './showResults';
import { testPanelMessage, testState } from './testState';

export const shellCommands: readonly ShellCommand[] = [
  openModel,
  loadDemoModel,
  openDemoPrompts,
  pickModel,
  showResults,
  restartSidecar,
  exportResult,
  rerunResult,
  deleteResult,
  refreshResults,
  testState,
  testPanelMessage,
];
