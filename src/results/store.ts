// Persists analysis results as one JSON file each under a storage folder (the workspace's
// context.storageUri, else globalStorageUri), so panels can be reopened after a reload or a sidecar
// crash. Free of `vscode` (plain fs) so it can be tested under plain Node.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Emitter, type Event } from 'vscode-jsonrpc';
import type { PanelKind } from '../../protocol';
import type { StoredResult } from '../features/api';

/** What lists show about a result without loading it. */
export interface ResultSummary {
  id: string;
  kind: PanelKind;
  title: string;
  createdAt: string;
  modelName: string;
  promptUri?: string;
}

export type NewResult<R = unknown> = Omit<StoredResult<R>, 'id' | 'createdAt'>;

const ID = /^[a-z0-9]+-[a-f0-9]{8}$/;
const KINDS: readonly PanelKind[] = ['decode', 'skip', 'probe'];

export class ResultStore {
  private summaries: Map<string, ResultSummary> | undefined;
  private readonly changed = new Emitter<void>();
  /** Fires after a save, update or delete. */
  readonly onDidChange: Event<void> = this.changed.event;

  constructor(readonly dir: string) {}

  /** Stores a new result, giving it an id and a creation time. */
  async save<R>(result: NewResult<R>): Promise<StoredResult<R>> {
    const stored = { ...result, id: newId(), createdAt: new Date().toISOString() } as StoredResult<R>;
    await this.write(stored);
    return stored;
  }

  /** Replaces a stored result's content (re-run), keeping its id; refreshes createdAt. */
  async update<R>(id: string, result: NewResult<R>): Promise<StoredResult<R>> {
    checkId(id);
    const stored = { ...result, id, createdAt: new Date().toISOString() } as StoredResult<R>;
    await this.write(stored);
    return stored;
  }

  /** The stored result, or undefined when there is none with this id. Throws on a corrupt file. */
  async get(id: string): Promise<StoredResult | undefined> {
    checkId(id);
    let text: string;
    try {
      text = await readFile(this.file(id), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const parsed = parseStored(text);
    if (!parsed) throw new Error(`layerlens result ${id} is unreadable (corrupt JSON in ${this.file(id)})`);
    return parsed;
  }

  /** Summaries of all readable results, newest first. */
  async list(): Promise<ResultSummary[]> {
    const summaries = await this.load();
    return [...summaries.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Deletes a result; false when it did not exist. */
  async delete(id: string): Promise<boolean> {
    checkId(id);
    const summaries = await this.load();
    const existed = summaries.delete(id);
    await rm(this.file(id), { force: true });
    this.changed.fire();
    return existed;
  }

  /** Forgets cached summaries (the next list re-reads the folder) and notifies listeners. */
  refresh(): void {
    this.summaries = undefined;
    this.changed.fire();
  }

  /** The JSON a result is exported as (the same document that is stored). */
  static serialize(result: StoredResult): string {
    return JSON.stringify(result, null, 2);
  }

  dispose(): void {
    this.changed.dispose();
  }

  private file(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private async write(stored: StoredResult): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.file(stored.id);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(stored), 'utf8');
    await rename(tmp, file);
    (await this.load()).set(stored.id, summarize(stored));
    this.changed.fire();
  }

  private async load(): Promise<Map<string, ResultSummary>> {
    if (this.summaries) return this.summaries;
    const map = new Map<string, ResultSummary>();
    let names: string[] = [];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const name of names) {
      const id = name.replace(/\.json$/, '');
      if (!name.endsWith('.json') || !ID.test(id)) continue;
      const stored = parseStored(await readFile(join(this.dir, name), 'utf8').catch(() => ''));
      if (stored && stored.id === id) map.set(id, summarize(stored));
    }
    this.summaries ??= map;
    return this.summaries;
  }
}

function newId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

function checkId(id: string): void {
  if (typeof id !== 'string' || !ID.test(id)) throw new Error(`Not a layerlens result id: ${JSON.stringify(id)}`);
}

function summarize(r: StoredResult): ResultSummary {
  return { id: r.id, kind: r.kind, title: r.title, createdAt: r.createdAt, modelName: r.modelName, promptUri: r.prompt?.uri };
}

/** Parses a stored result, checking the fields every consumer relies on. */
function parseStored(text: string): StoredResult | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const r = v as Partial<StoredResult>;
  const ok =
    typeof r.id === 'string' &&
    KINDS.includes(r.kind as PanelKind) &&
    typeof r.title === 'string' &&
    typeof r.createdAt === 'string' &&
    typeof r.modelName === 'string' &&
    !!r.request &&
    typeof r.request.method === 'string';
  return ok ? (r as StoredResult) : undefined;
}
