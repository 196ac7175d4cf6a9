// Turns command arguments and the active editor into a PromptRef: a CodeLens argument, else the
// selection, else the prompt under the cursor.
import * as vscode from 'vscode';
import type { PromptRef } from '../features/api';
import { findPrompts, promptAt, promptDocumentKind, type FoundPrompt, type PromptDocumentKind } from './discovery';

/** The kind of prompt document `doc` is: by its file name, or Markdown for an untitled (or other
 * unnamed) document in the Markdown language, such as the one "Open Demo Prompts" opens. */
export function documentKind(doc: vscode.TextDocument): PromptDocumentKind | undefined {
  return promptDocumentKind(doc.fileName) ?? (doc.languageId === 'markdown' ? 'markdown' : undefined);
}

/** The prompts of `doc` (see documentKind). */
export function documentPrompts(doc: vscode.TextDocument): FoundPrompt[] {
  // An unnamed Markdown document is read as if its name ended in .md (fences are its prompts).
  const named = promptDocumentKind(doc.fileName) !== undefined;
  return findPrompts(named || doc.languageId !== 'markdown' ? doc.fileName : `${doc.fileName}.md`, doc.getText());
}

/** The PromptRef of a prompt found in `doc`. */
export function promptRef(doc: vscode.TextDocument, found: FoundPrompt): PromptRef {
  return { uri: doc.uri, range: new vscode.Range(doc.positionAt(found.start), doc.positionAt(found.end)), text: found.text };
}

/**
 * A PromptRef from a command argument (a PromptRef, or its JSON form with a string uri and a
 * {start:{line,character},end:{…}} range, as tests pass it), else from the active editor: its
 * selection, else the prompt under the cursor, else the whole prompt file.
 */
export function resolvePrompt(arg?: unknown): PromptRef | undefined {
  const fromArg = reviveRef(arg);
  if (fromArg) return fromArg;
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  const doc = editor.document;
  if (!editor.selection.isEmpty) {
    const text = doc.getText(editor.selection);
    if (text.trim()) return { uri: doc.uri, range: new vscode.Range(editor.selection.start, editor.selection.end), text };
  }
  const prompts = documentPrompts(doc);
  // A whole prompt file is one prompt wherever the cursor is (e.g. in its front matter).
  const found = promptAt(prompts, doc.offsetAt(editor.selection.active)) ?? (prompts.length === 1 && prompts[0].source === 'file' ? prompts[0] : undefined);
  return found ? promptRef(doc, found) : undefined;
}

/** The PromptRef in a command argument, or undefined when it is not one. */
export function reviveRef(arg: unknown): PromptRef | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as { uri?: unknown; range?: unknown; text?: unknown };
  if (typeof a.text !== 'string') return undefined;
  const uri = a.uri instanceof vscode.Uri ? a.uri : typeof a.uri === 'string' ? vscode.Uri.parse(a.uri) : reviveUri(a.uri);
  const range = a.range instanceof vscode.Range ? a.range : reviveRange(a.range);
  return uri && range ? { uri, range, text: a.text } : undefined;
}

function reviveUri(u: unknown): vscode.Uri | undefined {
  const c = u as { scheme?: unknown; path?: unknown } | undefined;
  return c && typeof c.scheme === 'string' && typeof c.path === 'string' ? vscode.Uri.from(c as { scheme: string; path: string }) : undefined;
}

function reviveRange(r: unknown): vscode.Range | undefined {
  const pos = (p: unknown) => {
    const q = p as { line?: unknown; character?: unknown } | undefined;
    return q && Number.isInteger(q.line) && Number.isInteger(q.character) ? new vscode.Position(q.line as number, q.character as number) : undefined;
  };
  const range = r as { start?: unknown; end?: unknown } | undefined;
  const start = pos(range?.start);
  const end = pos(range?.end);
  return start && end ? new vscode.Range(start, end) : undefined;
}
