// Every command the manifest contributes is registered once the extension is active.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activated, testState } from '../harness';

suite('commands', () => {
  test('every contributed command is registered', async () => {
    const ext = await activated();
    const contributed = ((ext.packageJSON as { contributes?: { commands?: { command: string }[] } }).contributes?.commands ?? [])
      .map((c) => c.command);
    assert.ok(contributed.length >= 6, `the manifest contributes ${contributed.length} commands`);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), []);
  });

  test('the hidden test command answers with the shell state', async () => {
    await activated();
    const state = await testState();
    assert.ok(Array.isArray(state.features));
    assert.equal(typeof state.sidecarGeneration, 'number');
  });
});
