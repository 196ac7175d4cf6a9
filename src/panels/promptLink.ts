// Links a result panel to its prompt in the editor: highlights a hovered token's span, reports the
// token under the editor cursor, follows edits before the prompt, and marks the result stale when
// the prompt's own text is edited.
import * as vscode from 'vscode';
import type { TokenSpan } from '../../protocol';
import type { PromptRef, StoredResult } from '../features/api';
import { decodeJsonString } from '../prompts/json';
import { applyChange, docToPromptOffset, isPromptIntact, locatePrompt, promptToDocOffset, tokenIndexAt, type PromptLocation } from '../prompts/link';

export interface PromptLinkEvents {
  onStale(stale: boolean): void;
  onCursor(tokenIndex: number | null): void;
}

export class PromptLink implements vscode.Disposable {
  private location: PromptLocation | undefined;
  private tokens: readonly TokenSpan[] = [];
  private prompt: StoredResult['prompt'];
  private staleFlag = false;
  private lastCursor: number | null | undefined;
  private highlighted: { start: number; end: number } | null = null;
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
    border: '1px solid',
    borderColor: new vscode.ThemeColor('editor.findMatchHighlightBorder'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.findMatchForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Center,
  });
  private readonly disposables: vscode.Disposable[] = [this.decoration];

  constructor(stored: StoredResult, private readonly events: PromptLinkEvents) {
    this.reset(stored);
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
      vscode.workspace.onDidOpenTextDocument((d) => {
        if (!this.location && this.isLinked(d)) this.locate(d);
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onSelection(e)),
    );
  }

  /** Relinks to a (re-run) result: fresh location, not stale. */
  reset(stored: StoredResult): void {
    this.prompt = stored.prompt;
    this.tokens = stored.tokens ?? [];
    this.location = undefined;
    this.lastCursor = undefined;
    this.setStale(false);
    const doc = this.document();
    if (doc) this.locate(doc);
  }

  get stale(): boolean {
    return this.staleFlag;
  }

  get uri(): vscode.Uri | undefined {
    return this.prompt ? vscode.Uri.parse(this.prompt.uri) : undefined;
  }

  /** Where the prompt is now (document offsets), when its document is open and the prompt found. */
  get where(): PromptLocation | undefined {
    return this.location;
  }

  /**
   * The prompt as it is now in its document (opening it if needed), with its document offset;
   * undefined when the result has no prompt or the prompt is gone.
   */
  async currentPrompt(): Promise<{ ref: PromptRef; startOffset: number } | undefined> {
    const uri = this.uri;
    if (!uri) return undefined;
    const doc = this.document() ?? (await vscode.workspace.openTextDocument(uri).then(undefined, () => undefined));
    if (!doc) return undefined;
    if (!this.location) this.locate(doc);
    const loc = this.location;
    if (!loc) return undefined;
    const range = new vscode.Range(doc.positionAt(loc.start), doc.positionAt(loc.end));
    const raw = doc.getText(range);
    const text = loc.offsets ? decodeJsonString(raw) : raw;
    return text === undefined ? undefined : { ref: { uri, range, text }, startOffset: loc.start };
  }

  /** Document offsets of the highlighted token span, if any (for tests). */
  get highlightedSpan(): { start: number; end: number } | null {
    return this.highlighted;
  }

  /** The token index last sent for the editor cursor (for tests). */
  get cursorToken(): number | null | undefined {
    return this.lastCursor;
  }

  /** Highlights token `index` in every visible editor of the prompt's document (null: clear). */
  highlight(index: number | null): void {
    const range = index === null ? undefined : this.tokenRange(index);
    this.highlighted = range ? { start: range.start, end: range.end } : null;
    for (const editor of vscode.window.visibleTextEditors) {
      if (this.isLinked(editor.document)) editor.setDecorations(this.decoration, range ? [range.range] : []);
    }
  }

  /** Selects token `index` in the editor, opening the document beside the panel if needed. */
  async select(index: number): Promise<void> {
    const uri = this.uri;
    if (!uri) return;
    const doc = this.document() ?? (await vscode.workspace.openTextDocument(uri));
    if (!this.location) this.locate(doc);
    const target = this.tokenRange(index);
    if (!target) return;
    const visible = vscode.window.visibleTextEditors.find((e) => this.isLinked(e.document));
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One, preserveFocus: false });
    editor.selection = new vscode.Selection(target.range.start, target.range.end);
    editor.revealRange(target.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** Token `index`'s span in the document (offsets and range); undefined when unknown or stale. */
  private tokenRange(index: number): { range: vscode.Range; start: number; end: number } | undefined {
    const doc = this.document();
    const token = this.tokens[index];
    if (!doc || !this.location || !token || this.staleFlag) return undefined;
    const start = promptToDocOffset(this.location, token.start);
    const end = promptToDocOffset(this.location, token.end);
    return { range: new vscode.Range(doc.positionAt(start), doc.positionAt(end)), start, end };
  }

  private document(): vscode.TextDocument | undefined {
    return vscode.workspace.textDocuments.find((d) => this.isLinked(d));
  }

  private isLinked(doc: vscode.TextDocument): boolean {
    return !!this.prompt && doc.uri.toString() === this.prompt.uri;
  }

  private locate(doc: vscode.TextDocument): void {
    if (!this.prompt) return;
    this.location = locatePrompt(doc.getText(), this.prompt.startOffset, this.prompt.text);
    if (!this.location) this.setStale(true);
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    if (!this.isLinked(e.document) || e.contentChanges.length === 0) return;
    if (!this.location) return this.locate(e.document);
    let touched = false;
    for (const c of e.contentChanges) {
      const moved = applyChange(this.location, { offset: c.rangeOffset, removed: c.rangeLength, inserted: c.text.length });
      this.location = moved.loc;
      touched ||= moved.touched;
    }
    if (touched) {
      // An undo back to the original text is not stale.
      const text = e.document.getText();
      const intact = isPromptIntact(text, this.location, this.prompt!.text);
      if (intact) this.location = locatePrompt(text, this.location.start, this.prompt!.text) ?? this.location;
      this.setStale(!intact);
    }
  }

  private onSelection(e: vscode.TextEditorSelectionChangeEvent): void {
    if (!this.isLinked(e.textEditor.document)) return;
    let index: number | null = null;
    if (this.location && !this.staleFlag) {
      const offset = docToPromptOffset(this.location, e.textEditor.document.offsetAt(e.selections[0].active));
      index = offset === undefined ? null : tokenIndexAt(this.tokens, offset);
    }
    if (index === this.lastCursor) return;
    this.lastCursor = index;
    this.events.onCursor(index);
  }

  private setStale(stale: boolean): void {
    if (stale === this.staleFlag) return;
    this.staleFlag = stale;
    if (stale) this.highlight(null);
    this.events.onStale(stale);
  }
}
