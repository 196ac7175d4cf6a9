// CodeLens above each prompt: "Decode layers · Skip sweep · Probe readout", each calling the
// feature command with the PromptRef.
import * as vscode from 'vscode';
import { documentPrompts, promptRef } from './resolve';

/** The three feature entry commands, in lens order. */
export const PROMPT_COMMANDS = [
  { command: 'layerlens.decodeLayers', title: 'Decode layers' },
  { command: 'layerlens.skipSweep', title: 'Skip sweep' },
  { command: 'layerlens.probeReadout', title: 'Probe readout' },
] as const;

/** Documents with prompts. Patterns, not languages: VS Code opens *.prompt.md in its "Prompt" language. */
export const PROMPT_SELECTOR: vscode.DocumentSelector = [
  { pattern: '**/*.prompt.md' },
  { pattern: '**/*.prompt.txt' },
  { pattern: '**/*.{md,markdown}' },
  { language: 'markdown' },
  { pattern: '**/*.jsonl' },
];

export class PromptCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  /** Re-query lenses (e.g. after workspace trust changes). */
  refresh(): void {
    this.changed.fire();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    // The analyses need a model, and model loading is disabled in untrusted workspaces.
    if (!vscode.workspace.isTrusted) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const found of documentPrompts(doc)) {
      const ref = promptRef(doc, found);
      // Above the opening ``` line for fences, above the prompt's first line otherwise.
      const line = Math.max(0, ref.range.start.line - (found.source === 'fence' ? 1 : 0));
      const at = new vscode.Range(line, 0, line, 0);
      for (const { command, title } of PROMPT_COMMANDS) {
        lenses.push(new vscode.CodeLens(at, { command, title, arguments: [ref], tooltip: `${title} for this prompt (${ref.text.length} characters)` }));
      }
    }
    return lenses;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
