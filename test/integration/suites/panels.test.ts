// Result panels in the real extension host: hover -> editor highlight, editor cursor -> token,
// edits before the prompt move the link, edits inside make it stale, re-run refreshes it in place.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activated, sharedModel, workspaceDir } from '../harness';

const stories = sharedModel('stories260K');
type Api = { context: any };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The full snapshot of the hidden test command, panels included. */
async function state(): Promise<any> {
  return vscode.commands.executeCommand('layerlens._testState');
}
async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

suite('panels', function () {
  this.timeout(120_000);
  test('hover, cursor, move, stale, re-run', async function () {
    if (!stories) this.skip();
    const api = (await activated()).exports as Api;
    const ctx = api.context;
    const path = join(workspaceDir(), 'panel.prompt.md');
    writeFileSync(path, '---\nmode: ask\n---\nOnce upon a time\n');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(path));
    await vscode.window.showTextDocument(doc);
    const prompt = ctx.resolvePrompt();
    assert.equal(prompt.text, 'Once upon a time');
    await vscode.commands.executeCommand('layerlens.openModel', vscode.Uri.file(stories!));
    const model = await ctx.ensureModel();
    const params = { modelId: model.id, text: prompt.text, topK: 3 };
    const r = await ctx.request('model/run', params);
    const startOffset = doc.offsetAt(prompt.range.start);
    const stored = await ctx.showResult({ kind: 'decode', title: 'Run: Once', modelId: model.id, modelName: model.name, prompt: { uri: doc.uri.toString(), startOffset, text: prompt.text }, tokens: r.tokens, request: { method: 'model/run', params }, result: r });
    const panelOf = async () => (await state()).panels.find((p: any) => p.resultId === stored.id);
    await until('webview ready', async () => (await panelOf())?.messages.some((m: any) => m.type === 'ready'));

    await vscode.commands.executeCommand('layerlens._testPanelMessage', stored.id, { type: 'hoverToken', tokenIndex: 2 });
    const t2 = r.tokens[2];
    assert.deepEqual((await panelOf()).highlighted, { start: startOffset + t2.start, end: startOffset + t2.end });
    await vscode.commands.executeCommand('layerlens._testPanelMessage', stored.id, { type: 'hoverToken', tokenIndex: null });
    assert.equal((await panelOf()).highlighted, null);

    await vscode.window.showTextDocument(doc, { preview: false });
    const ed = vscode.window.activeTextEditor!;
    const at = doc.positionAt(startOffset + r.tokens[4].start + 1);
    ed.selection = new vscode.Selection(at, at);
    await until('cursor token', async () => (await panelOf()).cursorToken === 4);
    assert.ok((await panelOf()).messages.some((m: any) => m.type === 'editorCursor' && m.summary.tokenIndex === 4));

    await ed.edit((e) => e.insert(new vscode.Position(0, 0), '<!-- x -->\n'));
    let p = await panelOf();
    assert.equal(p.stale, false);
    assert.equal(p.linkedAt.start, startOffset + 11);
    await ed.edit((e) => e.insert(doc.positionAt(p.linkedAt.end), ' there'));
    p = await until('stale', async () => { const q = await panelOf(); return q.stale && q; });
    assert.ok(p.messages.some((m: any) => m.type === 'stale' && m.summary.stale === true));

    await vscode.commands.executeCommand('layerlens._testPanelMessage', stored.id, { type: 'rerun' });
    p = await until('re-run', async () => { const q = await panelOf(); return !q.stale && q; }, 60_000);
    // The re-run delivered a new result to the panel after it went stale, and the result is still stored.
    const types = p.messages.map((m: any) => `${m.dir}:${m.type}`);
    const staleAt = p.messages.findLastIndex((m: any) => m.type === 'stale' && m.summary?.stale === true);
    assert.ok(staleAt >= 0 && types.slice(staleAt + 1).some((t: string) => t === 'toWebview:result' || t === 'toWebview:init'), types.join(' '));
    assert.ok((await state()).results.some((x: any) => x.id === stored.id));
    await vscode.commands.executeCommand('layerlens.deleteResult', stored.id);
    await until('panel closed', async () => !(await panelOf()));
  });
});
