// Character offsets of tokens in their source text. @huggingface/tokenizers gives ids but no offsets, so
// the ids are decoded incrementally (each token's text given the tokens before it, as streaming
// detokenizers do) and that text is aligned to the source, tolerating what normalizers and decoders
// change (an added or dropped prefix space, case, unknown characters).

/** Token ranges [first, last] that decode to `text` together (byte-fallback pieces of one character group). */
interface DecodedGroup {
  first: number;
  last: number;
  text: string;
}

/** The text each token adds, grouping tokens that only make sense together (partial UTF-8 bytes). */
export function decodeGroups(decode: (ids: number[]) => string, ids: number[]): DecodedGroup[] {
  const groups: DecodedGroup[] = [];
  let prefix = 0;
  let read = 0;
  for (let i = 0; i < ids.length; i++) {
    const before = decode(ids.slice(prefix, read));
    const after = decode(ids.slice(prefix, i + 1));
    if (after.length > before.length && !after.endsWith('\uFFFD')) {
      groups.push({ first: read, last: i, text: after.slice(before.length) });
      prefix = read;
      read = i + 1;
    }
  }
  if (read < ids.length) {
    const before = decode(ids.slice(prefix, read));
    groups.push({ first: read, last: ids.length - 1, text: decode(ids.slice(prefix)).slice(before.length) });
  }
  return groups;
}

const isSpace = (ch: string) => /\s/.test(ch);
const sameChar = (a: string, b: string) => a === b || a.toLowerCase() === b.toLowerCase();

/** End offset if `piece` matches `source` at `at`, allowing whitespace the tokenizer added or dropped. */
function matchAt(source: string, at: number, piece: string): number | undefined {
  let i = at;
  let j = 0;
  let matched = 0;
  while (j < piece.length) {
    if (i < source.length && sameChar(source[i], piece[j])) {
      i++;
      j++;
      matched++;
    } else if (isSpace(piece[j])) j++;
    else if (i < source.length && isSpace(source[i])) i++;
    else return undefined;
  }
  return matched > 0 ? i : undefined;
}

/** How far ahead to look for a token whose text did not match at the cursor (after an unknown token). */
const RESYNC_WINDOW = 256;

/**
 * [start, end) in `source` for each of `ids`, which must be the tokenisation of `source` without
 * added special tokens. Tokens decoded together share a span; tokens that cannot be aligned
 * (unknown characters) take the gap up to the next aligned token.
 */
export function alignSpans(decode: (ids: number[]) => string, ids: number[], source: string): Array<[number, number]> {
  const spans: Array<[number, number]> = new Array(ids.length);
  let cursor = 0;
  let pending: DecodedGroup[] = [];
  const assign = (g: DecodedGroup, start: number, end: number) => {
    for (let t = g.first; t <= g.last; t++) spans[t] = [start, end];
  };
  for (const g of decodeGroups(decode, ids)) {
    let start = cursor;
    let end = g.text ? matchAt(source, cursor, g.text) : undefined;
    for (let k = cursor + 1; end === undefined && g.text.trim() && k < Math.min(source.length, cursor + RESYNC_WINDOW); k++) {
      end = matchAt(source, k, g.text);
      start = k;
    }
    if (end === undefined) {
      pending.push(g);
      continue;
    }
    for (const p of pending) assign(p, cursor, start);
    if (pending.length === 0 && start > cursor) start = cursor;
    pending = [];
    assign(g, start, end);
    cursor = end;
  }
  for (const p of pending) assign(p, cursor, source.length);
  return spans;
}
