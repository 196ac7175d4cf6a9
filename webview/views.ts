// The view module of each panel kind, imported statically (one bundle). Each feature adds its line, e.g.
//   import { view as decode } from './decode/view';      and      decode,
import type { PanelKind } from '../protocol';
import type { ViewModule } from './api';
import { view as decode } from './decode/view';
import { view as probe } from './probe/view';
import { view as skip } from './skip/view';

export const views: Partial<Record<PanelKind, ViewModule>> = {
  decode,
  probe,
  skip,
};
