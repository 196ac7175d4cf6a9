// Registers every feature's handlers on the sidecar server.
import type { SidecarServer } from '../server';
import * as core from './core';
import * as decode from './decode';
import * as probe from './probe';
import * as skip from './skip';

/** Feature handler modules, each exporting `register(server)`. */
const FEATURES: Array<{ register(server: SidecarServer): void }> = [core, decode, probe, skip];

export function registerAll(server: SidecarServer): void {
  for (const feature of FEATURES) feature.register(server);
}
