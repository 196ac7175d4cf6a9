// Joined blocks: a separable block runs attention + MLP in one session until a plan needs the boundary
// between them; then the block is split into sublayer sessions whose weights are read again from the
// model file. Each result is checked against an engine built from the in-memory model (its weights are
// never released) and against the monolithic model.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ExecutionPlan, TapName } from '../../../protocol';
import { buildFixture, writeFixture, type FixtureOptions } from '../../../native/fixtures/index';
import { createEngine, type LayeredEngine } from '../../../native/engine/index';
import { maxAbsDiff, tokenIds } from './helpers';

const base: FixtureOptions = { form: 'pytorch', layers: 3, hidden: 32, vocab: 96, seed: 5, maxPositions: 64 };
const ids = tokenIds(9, 96, 2);
const identity: ExecutionPlan = { slots: [0, 1, 2].map((layer) => ({ layer })) };
const sublayerTaps = ['blocks.1.attn_out', 'blocks.1.resid_mid', 'blocks.1.mlp_out', 'blocks.1.resid_post'] as TapName[];

for (const inline of [false, true]) {
  describe(`joined blocks, weights ${inline ? 'inline in the model file' : 'as external data'}`, () => {
    let dir: string;
    let engine: LayeredEngine;
    let reference: LayeredEngine;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-joined-'));
      const file = writeFixture(dir, base, inline ? undefined : {});
      engine = await createEngine({ path: file });
      reference = await createEngine({ model: buildFixture(base), baseDir: dir });
    });
    after(async () => {
      await engine.dispose();
      await reference.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('sublayer taps of a joined block equal those after the block is split', async () => {
      const joined = await engine.forward(ids, { taps: sublayerTaps });
      assert.ok(maxAbsDiff(joined.logits!, await engine.forwardMonolithic(ids)) <= 1e-4);
      // a sublayer skip in block 1 splits it (weights read again from the file)
      const skipAttn: ExecutionPlan = { slots: [{ layer: 0 }, { layer: 1, attn: false }, { layer: 2 }] };
      const skipped = await engine.forward(ids, { plan: skipAttn });
      assert.ok(maxAbsDiff(skipped.logits!, (await reference.forward(ids, { plan: skipAttn })).logits!) <= 1e-5);
      assert.ok(maxAbsDiff(skipped.logits!, joined.logits!) > 1e-3, 'skipping attention changes the logits');
      const split = await engine.forward(ids, { taps: sublayerTaps });
      for (const t of sublayerTaps) assert.ok(maxAbsDiff(joined.taps.get(t)!, split.taps.get(t)!) <= 1e-5, t);
      assert.ok(maxAbsDiff(split.logits!, joined.logits!) <= 1e-5);
    });

    test('a patch at resid_mid splits the block and equals the reference engine; cached decoding still matches', async () => {
      const plan: ExecutionPlan = { ...identity, patches: [{ tap: 'blocks.2.resid_mid', position: 3, vector: Array.from({ length: 32 }, (_, i) => Math.sin(i)) }] };
      const [a, b] = await Promise.all([engine.forward(ids, { plan }), engine.forward(ids, { plan: { ...identity, slots: identity.slots.map((s) => (s.layer === 0 ? { ...s, mlp: false } : s)) } })]);
      assert.ok(maxAbsDiff(a.logits!, (await reference.forward(ids, { plan })).logits!) <= 1e-5);
      assert.ok(b.logits);
      const cache = engine.newCache();
      const first = await engine.forward(ids.slice(0, 5), { cache, logits: 'last' });
      const next = await engine.forward(ids.slice(5, 6), { cache, logits: 'last' });
      const full = await engine.forwardMonolithic(ids.slice(0, 6));
      assert.ok(maxAbsDiff(next.logits!, { data: full.data.slice(5 * full.cols), rows: 1, cols: full.cols }) <= 1e-4);
      assert.ok(first.logits);
    });

    test('a split block is joined again after the idle time, also while forwards run', async () => {
      const quick = await createEngine({ path: path.join(dir, 'model.onnx') }, { rejoinIdleMs: 60_000 });
      try {
        const layout = () => (quick as unknown as { layers: { joined?: object; attn?: object }[] }).layers.map((l) => (l.joined ? 'joined' : l.attn ? 'split' : '?')).join(',');
        const want = (await quick.forward(ids, { taps: sublayerTaps })).taps;
        const skipMlp: ExecutionPlan = { slots: [{ layer: 0 }, { layer: 1, mlp: false }, { layer: 2, attn: false }] };
        const skipped = (await quick.forward(ids, { plan: skipMlp })).logits!;
        assert.equal(layout(), 'joined,split,split');
        // a short idle time from the next sublayer plan on
        quick.rejoinIdleMs = 20;
        await quick.forward(ids, { plan: skipMlp });
        // identity forwards keep running while the blocks are joined again
        const deadline = performance.now() + 3000;
        while (layout() !== 'joined,joined,joined' && performance.now() < deadline) {
          const got = await quick.forward(ids, { taps: sublayerTaps });
          for (const t of sublayerTaps) assert.ok(maxAbsDiff(got.taps.get(t)!, want.get(t)!) <= 1e-5, t);
          await new Promise((r) => setTimeout(r, 5));
        }
        assert.equal(layout(), 'joined,joined,joined');
        const again = await quick.forward(ids, { taps: sublayerTaps });
        for (const t of sublayerTaps) assert.ok(maxAbsDiff(again.taps.get(t)!, want.get(t)!) <= 1e-5, t);
        assert.ok(maxAbsDiff((await quick.forward(ids, { plan: skipMlp })).logits!, skipped) <= 1e-6);
      } finally {
        await quick.dispose();
      }
    });

    if (!inline) {
      test('a block whose weights cannot be read again stays joined and usable; the next split works', async () => {
        const data = path.join(dir, 'model.onnx_data');
        const fresh = await createEngine({ path: path.join(dir, 'model.onnx') });
        try {
          const want = (await fresh.forward(ids)).logits!;
          fs.renameSync(data, `${data}.moved`);
          const skipAttn: ExecutionPlan = { slots: [{ layer: 0 }, { layer: 1 }, { layer: 2, attn: false }] };
          const code = await fresh.forward(ids, { plan: skipAttn }).then(() => 'no error', (e) => (e as { code?: string }).code);
          fs.renameSync(`${data}.moved`, data);
          assert.equal(code, 'MISSING_EXTERNAL_DATA');
          assert.ok(maxAbsDiff((await fresh.forward(ids)).logits!, want) <= 1e-6);
          const skipped = (await fresh.forward(ids, { plan: skipAttn })).logits!;
          assert.ok(maxAbsDiff(skipped, (await reference.forward(ids, { plan: skipAttn })).logits!) <= 1e-5);
        } finally {
          if (fs.existsSync(`${data}.moved`)) fs.renameSync(`${data}.moved`, data);
          await fresh.dispose();
        }
      });
    }

    test('runSlot on a joined block returns the sublayer outputs', async () => {
      const fresh = await createEngine({ path: path.join(dir, 'model.onnx') });
      try {
        const state = await fresh.begin(ids);
        const out = await fresh.runSlot(state, { layer: 0 }, 0);
        const ref = await reference.runSlot(await reference.begin(ids), { layer: 0 }, 0);
        for (const k of ['attnOut', 'residMid', 'mlpOut'] as const) assert.ok(maxAbsDiff(out[k]!, ref[k]!) <= 1e-5, k);
        assert.ok(maxAbsDiff(out.state.residual, ref.state.residual) <= 1e-5);
      } finally {
        await fresh.dispose();
      }
    });
  });
}
