// layerlens.refreshResults: re-read stored results from disk (e.g. written by another window).
import type { ShellCommand } from '../services';

export const refreshResults: ShellCommand = {
  id: 'layerlens.refreshResults',
  run(s) {
    s.store.refresh();
  },
};
