// Test hooks hidden from the palette: layerlens._testState (a snapshot of the shell for integration and
// E2E tests) and layerlens._testPanelMessage (drive a panel without clicking in its webview).
import type { WebviewToHost } from '../../protocol';
import type { ShellCommand } from '../services';

export const testState: ShellCommand = {
  id: 'layerlens._testState',
  async run(s) {
    return {
      model: s.models.current ?? null,
      lastModel: s.models.last ?? null,
      sidecarPid: s.client.pid ?? null,
      sidecarGeneration: s.client.generation,
      features: s.features,
      results: await s.store.list(),
      panels: s.context.panels.open.map((p) => ({
        resultId: p.stored.id,
        kind: p.kind,
        title: p.panel.title,
        visible: p.panel.visible,
        active: p.panel.active,
        stale: p.link.stale,
        linkedAt: p.link.where ?? null,
        highlighted: p.link.highlightedSpan,
        cursorToken: p.link.cursorToken ?? null,
        messages: p.messages,
      })),
    };
  },
};

/** layerlens._testPanelMessage(resultId, message): delivers a webview message to a panel as if the webview sent it. */
export const testPanelMessage: ShellCommand = {
  id: 'layerlens._testPanelMessage',
  run(s, resultId, message) {
    const panel = s.context.panels.open.find((p) => p.stored.id === resultId);
    if (!panel) throw new Error(`no open panel shows result ${String(resultId)}`);
    panel.receive(message as WebviewToHost);
    return true;
  },
};
