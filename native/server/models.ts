// The models a sidecar holds: loaded by model/load, kept until model/unload or the sidecar ends.
import path from 'node:path';
import type { LoadParams } from '../../protocol';
import { ModelError } from '../onnx/errors';
import { loadModel, type LoadedModel } from '../model/load';

const PROVIDERS: Array<LoadParams['provider']> = ['auto', 'cpu', 'webgpu', 'cuda'];

export interface ModelRegistryOptions {
  /** Refuse models whose files exceed this many bytes (default: total memory). */
  memoryLimitBytes?: number;
}

export class ModelRegistry {
  private readonly models = new Map<string, LoadedModel>();
  /** Loads in progress by key, so that loading the same model twice at once loads it once. */
  private readonly loading = new Map<string, Promise<LoadedModel>>();
  /** Load key (path, variant, provider) of each loaded model id. */
  private readonly keys = new Map<string, string>();
  private counter = 0;

  constructor(private readonly opts: ModelRegistryOptions = {}) {}

  /** A loaded model, or MODEL_NOT_LOADED. */
  get(id: string): LoadedModel {
    const m = typeof id === 'string' ? this.models.get(id) : undefined;
    if (!m) throw new ModelError('MODEL_NOT_LOADED', `no model "${id}" is loaded (load it with model/load)`);
    return m;
  }

  list(): LoadedModel[] {
    return [...this.models.values()];
  }

  /**
   * Load a model; loading the same path, variant and provider again returns the model already loaded.
   * `onStep` reports loading steps.
   */
  load(params: LoadParams, onStep?: (fraction: number, message: string) => void): Promise<LoadedModel> {
    if (typeof params?.path !== 'string' || !params.path) return Promise.reject(new ModelError('BAD_REQUEST', 'model/load needs a path'));
    if (params.provider !== undefined && !PROVIDERS.includes(params.provider)) {
      return Promise.reject(new ModelError('BAD_REQUEST', `provider must be one of ${PROVIDERS.join(', ')}, got ${JSON.stringify(params.provider)}`));
    }
    if (params.variant !== undefined && typeof params.variant !== 'string') return Promise.reject(new ModelError('BAD_REQUEST', 'variant must be a string'));
    const key = JSON.stringify([path.resolve(params.path), params.variant ?? '', params.provider ?? 'auto']);
    const same = [...this.keys].find(([, k]) => k === key);
    if (same) return Promise.resolve(this.get(same[0]));
    let pending = this.loading.get(key);
    if (!pending) {
      const id = `${path.basename(path.resolve(params.path)).replace(/[^\w.-]+/g, '_')}-${++this.counter}`;
      pending = loadModel(params.path, { id, provider: params.provider, variant: params.variant, memoryLimitBytes: this.opts.memoryLimitBytes, onStep })
        .then((m) => {
          this.models.set(m.id, m);
          this.keys.set(m.id, key);
          return m;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  async unload(id: string): Promise<void> {
    const m = this.get(id);
    this.models.delete(id);
    this.keys.delete(id);
    await m.dispose();
  }

  /** Unload everything (sidecar shutdown). */
  async disposeAll(): Promise<void> {
    const all = this.list();
    this.models.clear();
    this.keys.clear();
    await Promise.allSettled(all.map((m) => m.dispose()));
  }
}
