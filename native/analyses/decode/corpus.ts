// Corpora for fitting and comparing lenses: text files (paragraphs), JSONL / JSON ("text" or "prompt"
// field, or plain strings) and CSV / TSV (a "text" or "prompt" column), plus inline texts.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { CorpusSpec } from '../../../protocol';
import { ModelError } from '../../onnx/errors';

const TEXT_FIELDS = ['text', 'prompt', 'content'];

/** The texts of a corpus, in order, empty ones dropped. Throws BAD_DATASET with the file and line on bad input. */
export async function readCorpus(spec: CorpusSpec): Promise<string[]> {
  const texts = [...(spec.texts ?? [])];
  for (const file of spec.files ?? []) {
    let content: string;
    try {
      content = await readFile(file, 'utf8');
    } catch (e) {
      throw new ModelError('BAD_DATASET', `Cannot read corpus file ${file}: ${(e as Error).message}`);
    }
    texts.push(...parseCorpusFile(basename(file), content));
  }
  const kept = texts.map((t) => t.trim()).filter((t) => t.length > 0);
  if (kept.length === 0) throw new ModelError('BAD_DATASET', 'The corpus has no texts');
  return kept;
}

/** Texts of one file by its extension. */
export function parseCorpusFile(name: string, content: string): string[] {
  const ext = extname(name).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') {
    return content.split(/\r?\n/).flatMap((line, i) => (line.trim() ? [textOf(parseJson(line, name, i + 1), name, i + 1)] : []));
  }
  if (ext === '.json') {
    const data = parseJson(content, name, 1);
    if (!Array.isArray(data)) throw new ModelError('BAD_DATASET', `${name}: expected a JSON array of texts`);
    return data.map((x, i) => textOf(x, name, i + 1));
  }
  if (ext === '.csv' || ext === '.tsv') {
    let rows: Record<string, string>[];
    try {
      rows = parseCsv(content, { columns: true, skip_empty_lines: true, delimiter: ext === '.tsv' ? '\t' : ',', bom: true });
    } catch (e) {
      throw new ModelError('BAD_DATASET', `${name}: ${(e as Error).message}`);
    }
    const column = TEXT_FIELDS.find((c) => rows.length > 0 && c in rows[0]);
    if (!column) throw new ModelError('BAD_DATASET', `${name}: no column named ${TEXT_FIELDS.join(', ')}`);
    return rows.map((r) => r[column]);
  }
  return content.split(/\r?\n\s*\r?\n/);
}

function parseJson(text: string, name: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelError('BAD_DATASET', `${name}:${line}: not JSON (${(e as Error).message})`);
  }
}

function textOf(x: unknown, name: string, line: number): string {
  if (typeof x === 'string') return x;
  if (x && typeof x === 'object') {
    for (const f of TEXT_FIELDS) {
      const v = (x as Record<string, unknown>)[f];
      if (typeof v === 'string') return v;
    }
  }
  throw new ModelError('BAD_DATASET', `${name}:${line}: expected a string or an object with a "text" or "prompt" field`);
}

/** A stable hash of token sequences (cache keys of fitted lenses). */
export function hashIds(texts: number[][]): string {
  const h = createHash('sha256');
  for (const ids of texts) h.update(Int32Array.from(ids)).update('|');
  return h.digest('hex').slice(0, 16);
}
