// layerlens.loadDemoModel: load the demo model shipped in demo/model/.
import type { ShellCommand } from '../services';

export const loadDemoModel: ShellCommand = {
  id: 'layerlens.loadDemoModel',
  async run(s) {
    const path = s.models.demoModelPath();
    if (!path) throw new Error('the demo model is not bundled in this build (demo/model/ is missing); use "Open Model Folder…" instead');
    return s.models.load(path);
  },
};
