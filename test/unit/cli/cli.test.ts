// The `layerlens` CLI, run as a process (node --import tsx native/cli.ts): layer maps checked against the
// residual tensor names listed in the models' manifest, next-token top-5 against expected.json.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../../native/cli';
import type { ModelInfo } from '../../../protocol';
import { EXPECTED, GENAI, GQA, REPO, STORIES } from '../model/helpers';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(REPO, 'native/cli.ts'), ...args], { cwd: REPO }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const expected = EXPECTED.cases[0];

describe('layerlens CLI', () => {
  it('inspect --json prints the layer map of stories260K', async () => {
    const r = await cli('inspect', STORIES, '--json', '--provider', 'cpu');
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as ModelInfo;
    const m = info.layerMap;
    assert.equal(m.numLayers, 5);
    assert.equal(m.hiddenSize, 64);
    assert.equal(m.vocabSize, 512);
    assert.equal(m.dtype, 'float32');
    assert.equal(m.graphForm, 'pytorch');
    // residual tensors as listed (and checked against numpy hidden states) in shared/models/MANIFEST.md
    assert.equal(m.embedOutput, '/model/embed_tokens/Gather_output_0');
    m.blocks.forEach((b, i) => {
      assert.equal(b.residMid, `/model/layers.${i}/Add_output_0`);
      assert.equal(b.residOut, `/model/layers.${i}/Add_1_output_0`);
    });
    assert.equal(m.finalNormOutput, '/model/norm/Mul_1_output_0');
  });

  it('inspect maps a graph that has no tokenizer yet (GroupQueryAttention form)', async () => {
    const r = await cli('inspect', GQA, '--json', '--provider', 'cpu');
    assert.equal(r.code, 0, r.stderr);
    const m = (JSON.parse(r.stdout) as ModelInfo).layerMap;
    assert.equal(m.graphForm, 'contrib-gqa');
    assert.equal(m.numLayers, 2);
    assert.equal(m.inputIdsType, 'int32');
    // residual tensors as listed in shared/models/MANIFEST.md
    assert.equal(m.embedOutput, 'inputs_embeds');
    assert.deepEqual([m.blocks[0].residMid, m.blocks[0].residOut, m.blocks[1].residMid], ['l0.r1', 'l0.r2', 'l1.r1']);
  });

  it('inspect prints a readable layer map', async () => {
    const r = await cli('inspect', GENAI, '--provider', 'cpu');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /graph form genai-builder/);
    assert.match(r.stdout, /2 layers {3}hidden 16 {3}vocab 32000 .* dtype float16/);
    assert.match(r.stdout, /block 0 +in {2}\/model\/embed_tokens\/Gather\/output_0/);
    assert.match(r.stdout, /mid \/model\/layers\.0\/post_attention_layernorm\/output_3/);
    assert.match(r.stdout, /context 2048 tokens/);
    assert.match(r.stdout, /taps available \(\d+\): embed, blocks\.0\.resid_pre/);
    assert.match(r.stdout, /taps unavailable \(\d+\)/);
  });

  it('run prints the next-token top-5 of the identity plan', async () => {
    const json = await cli('run', STORIES, expected.prompt, '--json', '--provider', 'cpu');
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { tokens: Array<{ id: number }>; next: Array<{ id: number; logit: number; prob: number; text: string }> };
    assert.deepEqual(out.tokens.map((t) => t.id), expected.prompt_ids);
    assert.deepEqual(out.next.map((t) => t.id), expected.last_prompt_position_top5.map((t) => t.id));
    out.next.forEach((t, i) => assert.ok(Math.abs(t.logit - expected.last_prompt_position_top5[i].logit) < 1e-3));

    const text = await cli('run', STORIES, expected.prompt, '--provider', 'cpu', '--top', '3');
    assert.equal(text.code, 0, text.stderr);
    const rows = text.stdout.trim().split('\n').slice(2);
    assert.equal(rows.length, 3);
    rows.forEach((row, i) => {
      const ref = expected.last_prompt_position_top5[i];
      assert.match(row, new RegExp(`^\\s*${ref.id}\\s+[\\d.]+%\\s+${JSON.stringify(ref.token).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    });
  });

  it('fails clearly with a non-zero exit on bad input', async () => {
    const missing = await cli('inspect', path.join(STORIES, 'does-not-exist'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /model path not found.*\[BAD_REQUEST\]/);
    const noTokenizer = await cli('run', GQA, 'hello', '--provider', 'cpu');
    assert.equal(noTokenizer.code, 1);
    assert.match(noTokenizer.stderr, /no tokenizer\.json .*\[MISSING_TOKENIZER\]/);
    const notOnnx = await cli('inspect', path.join(STORIES, 'README.md'));
    assert.equal(notOnnx.code, 1);
    assert.match(notOnnx.stderr, /README\.md is not an \.onnx file or a model folder \[NOT_ONNX\]/);
  });

  it('explains its usage on bad arguments (exit 2)', async () => {
    const r = await cli();
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage:\n {2}layerlens inspect <model>/);
    // the other cases in-process: main() is what the process runs
    for (const args of [['frobnicate', STORIES], ['run', STORIES], ['inspect', STORIES, '--provider', 'tpu'], ['run', STORIES, 'x', '--top', 'many'], ['inspect', STORIES, '--nope']]) {
      let err = '';
      const code = await main(args, { out: () => {}, err: (t) => (err += t) });
      assert.equal(code, 2, `${args.join(' ')}: ${err}`);
      assert.match(err, /usage:\n {2}layerlens inspect <model>/);
    }
  });
});
