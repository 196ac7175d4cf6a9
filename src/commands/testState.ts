// layerlens._testState (hidden from the palette): a snapshot for integration and E2E tests.
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
        messages: p.messages,
      })),
    };
  },
};
