// The corpus for fitting or comparing lenses: the workspace's prompt files plus the bundled demo corpus,
// or files the user picks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CorpusSpec } from '../../../protocol';
import type { FeatureContext } from '../api';

/** The default corpus: *.prompt.md files of the workspace and the extension's demo corpus. */
async function defaultCorpus(ctx: FeatureContext): Promise<CorpusSpec> {
  const prompts = await vscode.workspace.findFiles('**/*.prompt.md', '**/node_modules/**', 200);
  const files = prompts.map((u) => u.fsPath);
  const demo = path.join(ctx.extension.extensionPath, 'demo', 'data', 'heldout.jsonl');
  if (fs.existsSync(demo)) files.push(demo);
  return { files };
}

/** Asks for a corpus (default or picked files); undefined when the user cancels. */
export async function pickCorpus(ctx: FeatureContext, title: string, files?: string[]): Promise<CorpusSpec | undefined> {
  if (files) return { files };
  const sources: (vscode.QuickPickItem & { value: 'default' | 'pick' })[] = [
    { label: 'Workspace prompts + demo corpus', value: 'default' },
    { label: 'Choose files…', description: 'text, Markdown, JSONL or CSV', value: 'pick' },
  ];
  const pick = await vscode.window.showQuickPick(sources, { title });
  if (!pick) return undefined;
  if (pick.value === 'default') return defaultCorpus(ctx);
  const uris = await vscode.window.showOpenDialog({ canSelectMany: true, filters: { Corpus: ['txt', 'md', 'jsonl', 'json', 'csv', 'tsv'] }, title });
  return uris?.length ? { files: uris.map((u) => u.fsPath) } : undefined;
}
