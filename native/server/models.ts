// The models a sidecar holds: loaded by model/load, kept until model/unload or the sidecar ends.
// Requests see them through a ModelScope, so that unloading a model first stops the requests using it.
import path from 'node:path';
import type { LoadParams } from '../../protocol';
import { loadModel, type LoadedModel } from '../model/load';
import { ModelError } from '../onnx/errors';

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
  /** Requests using each model. */
  private readonly users = new Map<string, Set<ModelScope>>();
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

  /** The registry as one request sees it; `abort` stops the request when a model it uses is unloaded. */
  scope(abort: AbortController): ModelScope {
    return new ModelScope(this, abort);
  }

  /** @internal Record that `scope` uses model `id` (ModelScope.get). */
  use(id: string, scope: ModelScope): void {
    let set = this.users.get(id);
    if (!set) this.users.set(id, (set = new Set()));
    set.add(scope);
  }

  /** @internal A request ended (ModelScope.release). */
  release(scope: ModelScope): void {
    for (const set of this.users.values()) set.delete(scope);
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

  /** Unload a model: requests still using it are stopped (MODEL_NOT_LOADED) and awaited first. */
  async unload(id: string): Promise<void> {
    const m = this.get(id);
    this.models.delete(id);
    this.keys.delete(id);
    const users = [...(this.users.get(id) ?? [])];
    this.users.delete(id);
    for (const u of users) u.stop(new ModelError('MODEL_NOT_LOADED', `model "${id}" was unloaded while this request was using it`));
    await Promise.allSettled(users.map((u) => u.ended));
    await m.dispose();
  }

  /** Unload everything (sidecar shutdown, once no request runs). */
  async disposeAll(): Promise<void> {
    const all = this.list();
    this.models.clear();
    this.keys.clear();
    await Promise.allSettled(all.map((m) => m.dispose()));
  }
}

/** One request's view of the registry: the models it gets count as in use until the request ends. */
export class ModelScope {
  /** Resolves when the request has ended. */
  readonly ended: Promise<void>;
  private end!: () => void;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly abort: AbortController,
  ) {
    this.ended = new Promise((resolve) => (this.end = resolve));
  }

  /** A loaded model, or MODEL_NOT_LOADED; in use by this request until it ends. */
  get(id: string): LoadedModel {
    const m = this.registry.get(id);
    this.registry.use(id, this);
    return m;
  }

  list(): LoadedModel[] {
    return this.registry.list();
  }

  load(params: LoadParams, onStep?: (fraction: number, message: string) => void): Promise<LoadedModel> {
    return this.registry.load(params, onStep);
  }

  unload(id: string): Promise<void> {
    return this.registry.unload(id);
  }

  /** Abort the request with `reason` (its handler sees ctx.signal abort). */
  stop(reason: Error): void {
    this.abort.abort(reason);
  }

  /** The request ended: its models are no longer in use. */
  release(): void {
    this.registry.release(this);
    this.end();
  }
}
