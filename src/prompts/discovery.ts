// Finds the prompts in a document's text: a whole *.prompt.md / *.prompt.txt file, each ```prompt
// fence of a Markdown file, each line of a *.jsonl file with a "prompt" or "text" string field.
// Pure (no `vscode`): offsets are UTF-16 character offsets into the document text.
import { decodeJsonString, jsonStringFieldRange } from './json';

export type PromptSource = 'file' | 'fence' | 'jsonl';

export interface FoundPrompt {
  source: PromptSource;
  /** [start, end) of the prompt in the document. For JSONL: the string literal's content, without quotes. */
  start: number;
  end: number;
  /** The prompt text (for JSONL the decoded string, which may differ from the raw slice). */
  text: string;
}

export type PromptDocumentKind = 'promptFile' | 'markdown' | 'jsonl';

/** Which discovery rule applies to a file name (undefined: none, only selections). */
export function promptDocumentKind(fileName: string): PromptDocumentKind | undefined {
  const name = fileName.toLowerCase();
  if (name.endsWith('.prompt.md') || name.endsWith('.prompt.txt')) return 'promptFile';
  if (name.endsWith('.md') || name.endsWith('.markdown')) return 'markdown';
  if (name.endsWith('.jsonl')) return 'jsonl';
  return undefined;
}

/** All prompts of a document, in document order. */
export function findPrompts(fileName: string, text: string): FoundPrompt[] {
  switch (promptDocumentKind(fileName)) {
    case 'promptFile':
      return wholeFilePrompt(text, fileName.toLowerCase().endsWith('.md'));
    case 'markdown':
      return fencedPrompts(text);
    case 'jsonl':
      return jsonlPrompts(text);
    default:
      return [];
  }
}

/** The prompt whose range contains `offset` (ends inclusive, so a cursor just after the text counts). */
export function promptAt(prompts: FoundPrompt[], offset: number): FoundPrompt | undefined {
  return prompts.find((p) => p.start <= offset && offset <= p.end);
}

const FRONT_MATTER = /^---[ \t]*\r?\n[\s\S]*?\r?\n---[ \t]*(?:\r?\n|$)/;

function wholeFilePrompt(text: string, allowFrontMatter: boolean): FoundPrompt[] {
  let start = 0;
  if (allowFrontMatter) start = FRONT_MATTER.exec(text)?.[0].length ?? 0;
  let end = text.length;
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return end > start ? [{ source: 'file', start, end, text: text.slice(start, end) }] : [];
}

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[ \t]*prompt(?:[ \t].*)?$/;

/** CommonMark-style fences whose info string is `prompt`; an unclosed fence runs to the end. */
function fencedPrompts(text: string): FoundPrompt[] {
  const prompts: FoundPrompt[] = [];
  const lines = lineRanges(text);
  let open: { marker: string; contentStart: number } | undefined;
  let other: string | undefined; // an open fence of another language: skip its content
  for (const { start, end } of lines) {
    const line = text.slice(start, end).replace(/\r$/, '');
    const fence = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (open) {
      if (fence && fence[0] === open.marker[0] && fence.length >= open.marker.length && line.trim() === fence) {
        pushPrompt(prompts, text, open.contentStart, Math.max(open.contentStart, start - 1));
        open = undefined;
      }
      continue;
    }
    if (other) {
      if (fence && fence[0] === other[0] && fence.length >= other.length && line.trim() === fence) other = undefined;
      continue;
    }
    const m = FENCE_OPEN.exec(line);
    if (m && !(m[1][0] === '`' && line.slice(line.indexOf(m[1]) + m[1].length).includes('`'))) {
      open = { marker: m[1], contentStart: Math.min(end + 1, text.length) };
    } else if (fence) {
      other = fence;
    }
  }
  if (open) pushPrompt(prompts, text, open.contentStart, text.length);
  return prompts;
}

function pushPrompt(prompts: FoundPrompt[], text: string, start: number, end: number): void {
  if (end > start && text[end - 1] === '\r') end--;
  const body = text.slice(start, end);
  if (body.trim()) prompts.push({ source: 'fence', start, end, text: body });
}

function jsonlPrompts(text: string): FoundPrompt[] {
  const prompts: FoundPrompt[] = [];
  for (const { start, end } of lineRanges(text)) {
    const line = text.slice(start, end);
    if (!line.trim()) continue;
    const range = jsonStringFieldRange(line, 'prompt') ?? jsonStringFieldRange(line, 'text');
    if (!range) continue;
    const value = decodeJsonString(line.slice(range.start, range.end));
    if (value === undefined || !value.trim()) continue;
    prompts.push({ source: 'jsonl', start: start + range.start, end: start + range.end, text: value });
  }
  return prompts;
}

function lineRanges(text: string): { start: number; end: number }[] {
  const lines: { start: number; end: number }[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      lines.push({ start, end: text.length });
      return lines;
    }
    lines.push({ start, end: nl });
    start = nl + 1;
  }
}
