// layerlens.restartSidecar: stop the sidecar and start a fresh one, reloading the model.
import type { ShellCommand } from '../services';

export const restartSidecar: ShellCommand = {
  id: 'layerlens.restartSidecar',
  async run(s) {
    const hadModel = s.models.last !== undefined;
    const pid = await s.client.restart();
    s.log.info(`sidecar restarted by the user, pid ${pid}`);
    if (hadModel) await s.models.ensureModel();
    s.status.update();
    return pid;
  },
};
