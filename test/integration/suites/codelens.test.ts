// The prompt CodeLens provider, through VS Code's own CodeLens command, on files written here: lenses
// sit above each prompt (whole *.prompt.md, ```prompt fences, JSONL lines with a prompt) and nowhere else.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activated, workspaceDir } from '../harness';

const TITLES = ['Decode layers', 'Skip sweep', 'Probe readout'];

/** Lenses of a file as [line, title, prompt text] rows, sorted by line then lens order. */
async function lensRows(path: string, text: string): Promise<[number, string, string][]> {
  writeFileSync(path, text);
  const uri = vscode.Uri.file(path);
  await vscode.workspace.openTextDocument(uri);
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
  return lenses.map((l) => [l.range.start.line, l.command?.title ?? '', (l.command?.arguments?.[0] as { text?: string } | undefined)?.text ?? '']);
}

/** The expected rows: the three lenses on each given line with its prompt text. */
function expected(...at: [number, string][]): [number, string, string][] {
  return at.flatMap(([line, text]) => TITLES.map((t): [number, string, string] => [line, t, text]));
}

suite('prompt CodeLens', () => {
  let dir: string;
  suiteSetup(async () => {
    await activated();
    dir = join(workspaceDir(), 'codelens-fixtures');
    mkdirSync(dir, { recursive: true });
  });

  test('a *.prompt.md file is one prompt', async () => {
    const rows = await lensRows(join(dir, 'story.prompt.md'), 'Once upon a time, there was a cat.\n');
    assert.deepEqual(rows, expected([0, 'Once upon a time, there was a cat.']));
  });

  test('each ```prompt fence of a Markdown file is a prompt; other fences are not', async () => {
    const md = [
      '# Notes', //                    0
      '', //                           1
      '```prompt', //                  2
      'The cat sat on the', //         3
      '```', //                        4
      '', //                           5
      '```python', //                  6
      'print("not a prompt")', //      7
      '```', //                        8
      '', //                           9
      '```prompt', //                  10
      'Lily and Tom went to the park.', // 11
      '```', //                        12
    ].join('\n');
    const rows = await lensRows(join(dir, 'notes.md'), md);
    assert.deepEqual(rows, expected([2, 'The cat sat on the'], [10, 'Lily and Tom went to the park.']));
  });

  test('each JSONL line with a "prompt" field is a prompt', async () => {
    const jsonl = [
      JSON.stringify({ prompt: 'Once upon a time', label: 1 }),
      JSON.stringify({ label: 0, note: 'no prompt here' }),
      JSON.stringify({ prompt: 'The dog said "hi"\nand left', label: 0 }),
    ].join('\n');
    const rows = await lensRows(join(dir, 'data.jsonl'), jsonl);
    assert.deepEqual(rows, expected([0, 'Once upon a time'], [2, 'The dog said "hi"\nand left']));
  });

  test('a plain text file has no lenses', async () => {
    assert.deepEqual(await lensRows(join(dir, 'plain.txt'), 'Once upon a time\n'), []);
  });
});
