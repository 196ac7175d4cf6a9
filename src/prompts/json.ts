// Minimal JSON scanning for prompts in JSONL lines: where a top-level string field's literal sits in
// the raw text, and how offsets in the decoded string map back to the raw literal (escapes).
// Pure (no `vscode`).

/** [start, end) of the raw content (without quotes) of a string literal. */
export interface RawRange {
  start: number;
  end: number;
}

/**
 * Raw content range of the top-level string field `field` of the JSON object on `line`,
 * or undefined when the line is not a JSON object or the field is absent or not a string.
 */
export function jsonStringFieldRange(line: string, field: string): RawRange | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  if (typeof (parsed as Record<string, unknown>)[field] !== 'string') return undefined;
  // The line is valid JSON: walk the top-level members. Duplicate keys: JSON.parse keeps the last.
  let found: RawRange | undefined;
  let i = skipWs(line, 0) + 1; // past '{'
  for (;;) {
    i = skipWs(line, i);
    if (line[i] === '}') return found;
    const keyEnd = stringEnd(line, i);
    const key = JSON.parse(line.slice(i, keyEnd)) as string;
    i = skipWs(line, keyEnd) + 1; // past ':'
    i = skipWs(line, i);
    const valueEnd = valueEndAt(line, i);
    if (key === field) found = line[i] === '"' ? { start: i + 1, end: valueEnd - 1 } : undefined;
    i = skipWs(line, valueEnd);
    if (line[i] === ',') i++;
  }
}

/** Decodes the raw content of a JSON string literal (without quotes); undefined if invalid. */
export function decodeJsonString(raw: string): string | undefined {
  try {
    const value: unknown = JSON.parse(`"${raw}"`);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * For the raw content of a valid JSON string literal: `map[i]` is the raw offset of decoded
 * character i, and `map[decoded.length]` is raw.length.
 */
export function rawOffsets(raw: string): number[] {
  const map: number[] = [];
  let i = 0;
  while (i < raw.length) {
    map.push(i);
    i += raw[i] !== '\\' ? 1 : raw[i + 1] === 'u' ? 6 : 2;
  }
  map.push(raw.length);
  return map;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === '\n')) i++;
  return i;
}

/** Offset just past the string literal starting at `i` (s[i] === '"'). */
function stringEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j + 1;
  }
  return s.length;
}

/** Offset just past the JSON value starting at `i` (the text is known to be valid JSON). */
function valueEndAt(s: string, i: number): number {
  if (s[i] === '"') return stringEnd(s, i);
  if (s[i] !== '{' && s[i] !== '[') {
    let j = i;
    while (j < s.length && !/[\s,}\]]/.test(s[j])) j++;
    return j;
  }
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s[j];
    if (c === '"') j = stringEnd(s, j) - 1;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return s.length;
}
