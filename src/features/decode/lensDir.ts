// Where fitted lenses live: the workspace's storage folder (or the global one without a workspace).
import * as path from 'node:path';
import type { FeatureContext } from '../api';

export function lensDir(ctx: FeatureContext): string {
  const base = ctx.extension.storageUri ?? ctx.extension.globalStorageUri;
  return path.join(base.fsPath, 'lenses');
}
