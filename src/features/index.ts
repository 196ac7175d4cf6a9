// The features bundled into the extension (esbuild bundles statically: a feature is listed here).
// Each feature adds its own import and list entry, e.g.
//   import * as decode from './decode';      and      decode,
import type { FeatureModule } from './api';
import * as decode from './decode';
import * as probe from './probe';
import * as skip from './skip';

export const features: Record<string, FeatureModule> = {
  decode,
  probe,
  skip,
};
