// SidecarClient over real stdio JSON-RPC with a peer process: lazy start, progress relay,
// cancellation, error data, crash notice, lazy restart.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import type { ProgressParams } from '../../../protocol';
import { SidecarClient, SidecarError, describeStop, type SidecarStop } from '../../../src/sidecar/client';

const peer = join(__dirname, 'fixtures', 'peer-sidecar.ts');
const lines: string[] = [];
const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m), trace: (m: string) => lines.push(m) };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('SidecarClient', { timeout: 60_000 }, () => {
  const client = new SidecarClient({ command: process.execPath, args: ['--import', 'tsx', peer] }, log);
  const stops: SidecarStop[] = [];
  client.onDidStop((s) => stops.push(s));
  after(() => client.dispose());

  it('starts lazily on the first request and logs the pid', async () => {
    assert.equal(client.pid, undefined);
    const info = await client.request('sidecar/info', {});
    assert.equal(info.pid, client.pid);
    assert.equal(client.generation, 1);
    assert.ok(lines.some((l) => l.includes(`pid ${info.pid}`)));
  });

  it('relays progress notifications of its own request only', async () => {
    const seen: ProgressParams[] = [];
    const r = await client.request('model/run', { modelId: 'm', text: 'progress' }, { onProgress: (p) => seen.push(p) });
    assert.equal(r.provider, 'cpu');
    assert.deepEqual(seen.map((p) => p.fraction), [0.25, 0.5, 1]);
    assert.equal(new Set(seen.map((p) => p.token)).size, 1);
  });

  it('cancels a running request through the token', async () => {
    const cts = new CancellationTokenSource();
    const pending = client.request('model/run', { modelId: 'm', text: 'slow' }, { token: cts.token });
    setTimeout(() => cts.cancel(), 100);
    await assert.rejects(pending, (e: unknown) => e instanceof SidecarError && e.code === 'CANCELLED');
    await assert.rejects(client.request('sidecar/info', {}, { token: cts.token }), (e: unknown) => e instanceof SidecarError && e.code === 'CANCELLED');
  });

  it('settles a cancelled request at once even when the sidecar ignores the cancellation', async () => {
    const cts = new CancellationTokenSource();
    const t0 = Date.now();
    const pending = client.request('model/run', { modelId: 'm', text: 'ignore-cancel' }, { token: cts.token });
    setTimeout(() => cts.cancel(), 50);
    await assert.rejects(pending, (e: unknown) => e instanceof SidecarError && e.code === 'CANCELLED');
    assert.ok(Date.now() - t0 < 2500, `took ${Date.now() - t0} ms`);
    assert.equal((await client.request('sidecar/info', {})).pid, client.pid, 'the connection still works');
  });

  it('turns error data into a SidecarError with code and detail', async () => {
    await assert.rejects(client.request('model/run', { modelId: 'm', text: 'bad' }), (e: unknown) => {
      assert.ok(e instanceof SidecarError);
      assert.equal(e.code, 'PROMPT_TOO_LONG');
      assert.equal(e.detail, '9000 tokens > 512');
      assert.equal(e.message, 'prompt is too long for this model');
      return true;
    });
  });

  it('rejects the pending request when the process dies, says so, and restarts on the next request', async () => {
    const pid = client.pid!;
    await assert.rejects(client.request('model/run', { modelId: 'm', text: 'crash' }), (e: unknown) => {
      assert.ok(e instanceof SidecarError);
      assert.equal(e.code, 'SIDECAR_STOPPED');
      assert.equal(e.message, 'layerlens sidecar stopped (exit code 3); it will restart on the next request');
      return true;
    });
    assert.equal(stops.length, 1);
    assert.deepEqual({ ...stops[0] }, { code: 3, signal: null, pid, expected: false });
    assert.ok(lines.some((l) => l === '[sidecar] about to crash'));
    assert.equal(client.isRunning, false);
    const info = await client.request('sidecar/info', {});
    assert.notEqual(info.pid, pid);
    assert.equal(client.generation, 2);
  });

  it('reports a kill by signal', async () => {
    const pid = client.pid!;
    const stopped = new Promise<SidecarStop>((resolve) => client.onDidStop(resolve));
    process.kill(pid, 'SIGKILL');
    const stop = await stopped;
    assert.equal(stop.signal, 'SIGKILL');
    assert.equal(describeStop(stop), 'layerlens sidecar stopped (signal SIGKILL); it will restart on the next request');
    assert.ok((await client.request('sidecar/info', {})).pid > 0);
  });

  it('restart() stops the old process (an expected stop) and starts a new one', async () => {
    const old = client.pid!;
    const pid = await client.restart();
    assert.ok(pid && pid !== old && isAlive(pid));
    assert.ok(!isAlive(old));
    assert.equal(stops.at(-1)!.expected, true);
  });

  it('a command that cannot start gives a clear error', async () => {
    const broken = new SidecarClient({ command: '/nonexistent/node', args: [] }, log);
    await assert.rejects(broken.request('sidecar/info', {}), /layerlens sidecar failed to start: spawn \/nonexistent\/node ENOENT/);
    await broken.dispose();
  });
});
