// Keeps a result linked to its prompt in the editor: where the prompt sits in the document now,
// editor offsets <-> prompt offsets <-> token indices, and how edits move or invalidate the link.
// Pure (no `vscode`).
import type { TokenSpan } from '../../protocol';
import { decodeJsonString, rawOffsets } from './json';

/** Where a prompt sits in a document. */
export interface PromptLocation {
  /** [start, end) in the document. */
  start: number;
  end: number;
  /**
   * Present when the prompt is a JSON string literal whose raw text differs from the prompt (escapes):
   * offsets[i] is the raw offset (relative to start) of prompt character i.
   */
  offsets?: number[];
}

/** A document edit in offsets of the document before the edit. */
export interface TextChange {
  offset: number;
  removed: number;
  inserted: number;
}

/**
 * Finds the prompt `text` in `docText`: at `startOffset` first (verbatim or as JSON string content),
 * else the occurrence nearest to `startOffset`. Undefined when the prompt is no longer there.
 */
export function locatePrompt(docText: string, startOffset: number, text: string): PromptLocation | undefined {
  if (!text) return undefined;
  if (docText.startsWith(text, startOffset)) return { start: startOffset, end: startOffset + text.length };
  if (docText[startOffset - 1] === '"') {
    const raw = jsonContentAt(docText, startOffset);
    if (decodeJsonString(raw) === text) return { start: startOffset, end: startOffset + raw.length, offsets: rawOffsets(raw) };
  }
  const plain = nearestIndexOf(docText, text, startOffset);
  if (plain >= 0) return { start: plain, end: plain + text.length };
  return nearestJsonLiteral(docText, text, startOffset);
}

/** Document offset of prompt offset `promptOffset`. */
export function promptToDocOffset(loc: PromptLocation, promptOffset: number): number {
  if (!loc.offsets) return loc.start + promptOffset;
  const i = Math.max(0, Math.min(promptOffset, loc.offsets.length - 1));
  return loc.start + loc.offsets[i];
}

/** Prompt offset of document offset `docOffset`, or undefined when outside the prompt. */
export function docToPromptOffset(loc: PromptLocation, docOffset: number): number | undefined {
  if (docOffset < loc.start || docOffset > loc.end) return undefined;
  const rel = docOffset - loc.start;
  if (!loc.offsets) return rel;
  // Last prompt character whose raw offset is <= rel.
  let lo = 0;
  let hi = loc.offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (loc.offsets[mid] <= rel) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Index of the token covering prompt offset `offset`: the token with start <= offset < end, else the
 * token ending exactly at `offset` (cursor just after it). Zero-width (special) tokens never match.
 */
export function tokenIndexAt(tokens: readonly TokenSpan[], offset: number): number | null {
  let after: number | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.end <= t.start) continue;
    if (t.start <= offset && offset < t.end) return i;
    if (t.end === offset) after = i;
  }
  return after;
}

/**
 * Moves a location through an edit. `touched` when the edit changes the prompt's own text (including
 * typing right at its start or end); edits entirely before shift it, edits after leave it alone.
 */
export function applyChange(loc: PromptLocation, change: TextChange): { loc: PromptLocation; touched: boolean } {
  const delta = change.inserted - change.removed;
  if (change.offset + change.removed <= loc.start && change.offset < loc.start) {
    return { loc: { ...loc, start: loc.start + delta, end: loc.end + delta }, touched: false };
  }
  if (change.offset > loc.end) return { loc, touched: false };
  return { loc: { start: loc.start, end: Math.max(loc.start, loc.end + delta) }, touched: true };
}

/** True when the document still holds exactly the prompt `text` at `loc` (verbatim or as JSON string content). */
export function isPromptIntact(docText: string, loc: PromptLocation, text: string): boolean {
  const raw = docText.slice(loc.start, loc.end);
  return raw === text || decodeJsonString(raw) === text;
}

/** Raw content of the JSON string literal whose content starts at `start` (up to the closing quote). */
function jsonContentAt(s: string, start: number): string {
  for (let j = start; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"' || s[j] === '\n') return s.slice(start, j);
  }
  return s.slice(start);
}

/** The JSON string literal decoding to `text` nearest to `near` (literals are paired line by line). */
function nearestJsonLiteral(docText: string, text: string, near: number): PromptLocation | undefined {
  let best: PromptLocation | undefined;
  let inString = -1;
  for (let j = 0; j < docText.length; j++) {
    const c = docText[j];
    if (c === '\n') inString = -1;
    else if (inString >= 0 && c === '\\') j++;
    else if (c === '"' && inString < 0) inString = j + 1;
    else if (c === '"') {
      const raw = docText.slice(inString, j);
      if (decodeJsonString(raw) === text && (!best || Math.abs(inString - near) < Math.abs(best.start - near))) {
        best = { start: inString, end: j, offsets: rawOffsets(raw) };
      }
      inString = -1;
    }
  }
  return best;
}

function nearestIndexOf(haystack: string, needle: string, near: number): number {
  if (!needle) return -1;
  const before = haystack.lastIndexOf(needle, near);
  const after = haystack.indexOf(needle, near);
  if (before < 0) return after;
  if (after < 0) return before;
  return near - before <= after - near ? before : after;
}
