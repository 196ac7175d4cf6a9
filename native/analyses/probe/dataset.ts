// Labelled probe data sets: CSV / TSV (RFC 4180 via csv-parse), JSONL and JSON arrays.
// Every unusable row is reported with its 1-based line number; rows are dropped only when the caller
// asks for it (skipMalformed), otherwise parsing fails with a DatasetError listing them.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { InspectDatasetResult, MalformedRow, ProbeDatasetFormat, ProbeDatasetSpec } from '../../../protocol';
import { ModelError } from '../../onnx/errors';

/** One usable example. */
export interface ProbeExample {
  text: string;
  label: string;
  group?: string;
  /** Character span [start, end) in `text`. */
  span?: [number, number];
  /** 1-based line where the row starts. */
  line: number;
}

export interface ProbeDataset {
  name: string;
  /** sha256 of the file content (cache keys, saved probes). */
  hash: string;
  examples: ProbeExample[];
  /** Sorted distinct labels; label index = position here. */
  labels: string[];
  /** Label index of each example. */
  y: Int32Array;
  skipped: MalformedRow[];
}

/** A data set that cannot be used as asked (code BAD_DATASET); `rows` lists the malformed rows. */
export class DatasetError extends ModelError {
  constructor(message: string, readonly rows: MalformedRow[] = []) {
    super('BAD_DATASET', message);
    this.name = 'DatasetError';
  }
}

/** A raw row: field name → value, with its start line. */
interface RawRow {
  line: number;
  fields: Record<string, unknown>;
}

interface RawTable {
  columns: string[];
  rows: RawRow[];
  malformed: MalformedRow[];
}

export function formatFromPath(path: string): ProbeDatasetFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  throw new DatasetError(`Cannot tell the format of ${basename(path)} from its extension: use .csv, .tsv, .jsonl or .json, or name the format.`);
}

function readDelimited(content: string, delimiter: string): RawTable {
  let records: { record: string[]; info: { bytes: number } }[];
  try {
    records = parseCsv(content, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, delimiter, record_delimiter: ['\r\n', '\n', '\r'] }) as unknown as typeof records;
  } catch (e) {
    const err = e as { message: string; lines?: number };
    throw new DatasetError(`The file is not valid CSV: ${err.message}`, err.lines ? [{ line: err.lines, reason: err.message }] : []);
  }
  if (records.length === 0) throw new DatasetError('The file is empty: expected a header row and data rows.');
  const header = records[0].record.map((h) => h.trim());
  const malformed: MalformedRow[] = [];
  const rows: RawRow[] = [];
  // A record starts where the previous one's bytes end, after any empty lines; its line is 1 + the
  // line feeds before that point (csv-parse's own line count treats CR LF inside quotes as two lines).
  const bytes = Buffer.from(content, 'utf8');
  let scanned = 0;
  let line = 1;
  const lineAt = (offset: number): number => {
    for (; scanned < offset; scanned++) if (bytes[scanned] === 0x0a) line++;
    return line;
  };
  for (let k = 1; k < records.length; k++) {
    let start = records[k - 1].info.bytes;
    while (bytes[start] === 0x0a || bytes[start] === 0x0d) start++;
    const { record } = records[k];
    const at = lineAt(start);
    if (record.length !== header.length) {
      malformed.push({ line: at, reason: `${record.length} fields, the header has ${header.length}` });
      continue;
    }
    const fields: Record<string, unknown> = {};
    header.forEach((h, i) => (fields[h] = record[i]));
    rows.push({ line: at, fields });
  }
  return { columns: header, rows, malformed };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readJsonl(content: string): RawTable {
  const rows: RawRow[] = [];
  const malformed: MalformedRow[] = [];
  const columns = new Set<string>();
  content.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((text, i) => {
    if (!text.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      malformed.push({ line: i + 1, reason: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    if (!isObject(value)) {
      malformed.push({ line: i + 1, reason: 'not a JSON object' });
      return;
    }
    Object.keys(value).forEach((k) => columns.add(k));
    rows.push({ line: i + 1, fields: value });
  });
  return { columns: [...columns], rows, malformed };
}

function readJsonArray(content: string): RawTable {
  let value: unknown;
  try {
    value = JSON.parse(content.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new DatasetError(`The file is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(value)) throw new DatasetError('A JSON data set must be an array of objects.');
  // Line of each element: JSON.parse gives no positions, so find each top-level element's start by scanning.
  const starts = topLevelElementLines(content);
  const rows: RawRow[] = [];
  const malformed: MalformedRow[] = [];
  const columns = new Set<string>();
  value.forEach((item, i) => {
    const line = starts[i] ?? 1;
    if (!isObject(item)) {
      malformed.push({ line, reason: `element ${i} is not an object` });
      return;
    }
    Object.keys(item).forEach((k) => columns.add(k));
    rows.push({ line, fields: item });
  });
  return { columns: [...columns], rows, malformed };
}

/** 1-based start line of each element of a top-level JSON array (the text is known to be valid JSON). */
function topLevelElementLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') line++;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (expectElement && depth === 1 && !/\s/.test(ch) && ch !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

function readTable(content: string, format: ProbeDatasetFormat): RawTable {
  switch (format) {
    case 'csv':
      return readDelimited(content, ',');
    case 'tsv':
      return readDelimited(content, '\t');
    case 'jsonl':
      return readJsonl(content);
    case 'json':
      return readJsonArray(content);
  }
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function parseSpan(v: unknown, textLength: number): [number, number] | string {
  let pair: unknown[] | undefined;
  if (Array.isArray(v)) pair = v;
  else if (typeof v === 'string') {
    const s = v.trim();
    pair = s.startsWith('[') ? (() => { try { return JSON.parse(s); } catch { return undefined; } })() : s.split(':').map(Number);
  }
  if (!Array.isArray(pair) || pair.length !== 2) return 'span must be [start, end] or "start:end"';
  const [a, b] = pair.map(Number);
  if (!Number.isInteger(a) || !Number.isInteger(b)) return 'span bounds must be integers';
  if (a < 0 || b <= a || b > textLength) return `span [${a}, ${b}) is outside the text (length ${textLength}) or empty`;
  return [a, b];
}

/** Columns, row count and a preview, for the column picker. */
export function inspectDataset(content: string, format: ProbeDatasetFormat): InspectDatasetResult {
  const table = readTable(content, format);
  const preview = table.rows.slice(0, 5).map((r) => {
    const out: Record<string, string> = {};
    for (const c of table.columns) out[c] = scalarText(r.fields[c]) ?? JSON.stringify(r.fields[c] ?? null);
    return out;
  });
  return { format, columns: table.columns, rows: table.rows.length + table.malformed.length, preview };
}

/** Parses a data set's content into examples and label indices, following `spec`. */
export function parseDataset(content: string, spec: ProbeDatasetSpec, needSpan = false): ProbeDataset {
  const format = spec.format ?? formatFromPath(spec.path);
  const table = readTable(content, format);
  for (const [what, col] of [['text', spec.textColumn], ['label', spec.labelColumn], ['group', spec.groupColumn], ['span', spec.spanColumn]] as const) {
    if (col !== undefined && !table.columns.includes(col)) {
      throw new DatasetError(`The ${what} column "${col}" is not in the data set (columns: ${table.columns.join(', ') || 'none'}).`);
    }
  }
  if (needSpan && !spec.spanColumn) throw new DatasetError('Pooling over a marked span needs a span column.');
  const malformed = [...table.malformed];
  const examples: ProbeExample[] = [];
  for (const { line, fields } of table.rows) {
    const text = scalarText(fields[spec.textColumn]);
    const label = scalarText(fields[spec.labelColumn])?.trim();
    if (text === undefined || !text.trim()) {
      malformed.push({ line, reason: `empty or missing text in "${spec.textColumn}"` });
      continue;
    }
    if (!label) {
      malformed.push({ line, reason: `empty or missing label in "${spec.labelColumn}"` });
      continue;
    }
    const ex: ProbeExample = { text, label, line };
    if (spec.groupColumn) {
      const group = scalarText(fields[spec.groupColumn]);
      if (group === undefined || group === '') {
        malformed.push({ line, reason: `empty or missing group in "${spec.groupColumn}"` });
        continue;
      }
      ex.group = group;
    }
    if (spec.spanColumn) {
      const span = parseSpan(fields[spec.spanColumn], text.length);
      if (typeof span === 'string') {
        malformed.push({ line, reason: span });
        continue;
      }
      ex.span = span;
    }
    examples.push(ex);
  }
  malformed.sort((a, b) => a.line - b.line);
  if (malformed.length > 0 && !spec.skipMalformed) {
    const shown = malformed.slice(0, 20).map((m) => `line ${m.line}: ${m.reason}`).join('; ');
    const more = malformed.length > 20 ? ` (and ${malformed.length - 20} more)` : '';
    throw new DatasetError(`${malformed.length} malformed row(s): ${shown}${more}. Fix them or allow skipping them.`, malformed);
  }
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) throw new DatasetError(`A probe needs at least two labels; found ${labels.length} (${labels.join(', ') || 'none'}).`, malformed);
  const index = new Map(labels.map((l, i) => [l, i]));
  const y = Int32Array.from(examples, (e) => index.get(e.label)!);
  const hash = createHash('sha256').update(content).digest('hex');
  return { name: basename(spec.path), hash, examples, labels, y, skipped: malformed };
}

/** Reads and parses a data set file. */
export async function loadDataset(spec: ProbeDatasetSpec, needSpan = false): Promise<ProbeDataset> {
  let content: string;
  try {
    content = await readFile(spec.path, 'utf8');
  } catch (e) {
    throw new DatasetError(`Cannot read the data set ${spec.path}: ${(e as Error).message}`);
  }
  return parseDataset(content, spec, needSpan);
}
