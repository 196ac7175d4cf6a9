// Model loading on the real shared models, and every kind of bad input refused with its stable code.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readModelConfig } from '../../../native/model/config';
import { findModelFiles } from '../../../native/model/files';
import { loadModel, type LoadedModel } from '../../../native/model/load';
import { checkModelFiles } from '../../../native/model/validate';
import {
  EXPECTED,
  GENAI,
  GQA,
  STORIES,
  encoderOnlyModel,
  externalDataModel,
  modelDir,
  storiesSideFiles,
  tempDir,
  visionModel,
} from './helpers';

const STORIES_ONNX = path.join(STORIES, 'onnx/model.onnx');
const storiesConfig = JSON.parse(fs.readFileSync(path.join(STORIES, 'config.json'), 'utf8'));
const genaiConfig = JSON.parse(fs.readFileSync(path.join(GENAI, 'genai_config.json'), 'utf8'));

/** Assert that `fn` rejects with a ModelError of `code` whose message matches `message`. */
async function rejectsWith(fn: () => unknown, code: string, message: RegExp): Promise<void> {
  await assert.rejects(async () => fn(), (e: Error & { code?: string }) => {
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    assert.match(e.message, message);
    return true;
  });
}

const load = (dir: string, extra: { memoryLimitBytes?: number } = {}) => loadModel(dir, { id: 't', provider: 'cpu', ...extra });

describe('model files', () => {
  it('finds the Optimum layout and its variants, model.onnx by default', () => {
    const f = findModelFiles(STORIES);
    assert.equal(f.onnxFile, STORIES_ONNX);
    assert.deepEqual(Object.keys(f.variants).sort(), ['model', 'model_no_past']);
    assert.equal(f.tokenizer, path.join(STORIES, 'tokenizer.json'));
    assert.equal(f.config, path.join(STORIES, 'config.json'));
    assert.equal(findModelFiles(STORIES, 'model_no_past').onnxFile, path.join(STORIES, 'onnx/model_no_past.onnx'));
    assert.equal(findModelFiles(STORIES, 'model_no_past.onnx').onnxFile, path.join(STORIES, 'onnx/model_no_past.onnx'));
    assert.throws(() => findModelFiles(STORIES, 'model_q4'), { code: 'BAD_REQUEST', message: /no ONNX variant "model_q4".*model, model_no_past/ });
  });

  it('finds the onnxruntime-genai layout through genai_config.json', () => {
    const g = findModelFiles(GENAI);
    assert.equal(g.onnxFile, path.join(GENAI, 'model.onnx'));
    assert.equal(g.genaiConfig, path.join(GENAI, 'genai_config.json'));
    assert.equal(findModelFiles(GQA).onnxFile, path.join(GQA, 'decoder.onnx'));
  });

  it('takes a single .onnx file with the tokenizer in its folder (or the folder above onnx/)', () => {
    assert.equal(findModelFiles(path.join(GENAI, 'model.onnx')).tokenizer, path.join(GENAI, 'tokenizer.json'));
    const f = findModelFiles(STORIES_ONNX);
    assert.equal(f.folder, STORIES);
    assert.equal(f.onnxFile, STORIES_ONNX);
    assert.ok(f.tokenizer);
  });

  it('refuses a missing path and a file that is not .onnx', () => {
    assert.throws(() => findModelFiles(path.join(STORIES, 'nope')), { code: 'BAD_REQUEST', message: /not found/ });
    assert.throws(() => findModelFiles(path.join(STORIES, 'config.json')), { code: 'NOT_ONNX' });
    assert.throws(() => findModelFiles(modelDir({ 'config.json': '{}' })), { code: 'NOT_ONNX', message: /no ONNX model/ });
  });
});

describe('model config', () => {
  it('reads config.json', () => {
    const c = readModelConfig(findModelFiles(STORIES));
    assert.equal(c.source, 'config.json');
    assert.equal(c.numLayers, storiesConfig.num_hidden_layers);
    assert.equal(c.hiddenSize, storiesConfig.hidden_size);
    assert.equal(c.vocabSize, storiesConfig.vocab_size);
    assert.equal(c.contextLength, storiesConfig.max_position_embeddings);
    assert.equal(c.bosTokenId, 1);
    assert.equal(c.eosTokenId, 2);
  });

  it('reads genai_config.json when there is no config.json', () => {
    const c = readModelConfig(findModelFiles(GENAI));
    assert.equal(c.source, 'genai_config.json');
    assert.equal(c.numLayers, genaiConfig.model.decoder.num_hidden_layers);
    assert.equal(c.vocabSize, genaiConfig.model.vocab_size);
    assert.equal(c.contextLength, genaiConfig.model.context_length);
  });

  it('refuses a missing or broken config', async () => {
    await rejectsWith(() => load(modelDir({ 'onnx/model.onnx': { link: STORIES_ONNX }, 'tokenizer.json': { link: path.join(STORIES, 'tokenizer.json') } })), 'MISSING_CONFIG', /no config\.json/);
    await rejectsWith(() => load(modelDir({ ...storiesSideFiles(), 'config.json': '{"num_hidden_layers": 5,', 'onnx/model.onnx': { link: STORIES_ONNX } })), 'MISSING_CONFIG', /config\.json is not valid JSON/);
  });
});

describe('model validation (before onnxruntime)', () => {
  const withGraph = (onnxBytes: Uint8Array | { copy: string; bytes?: number } | { link: string }, extra: Record<string, string | { copy: string; bytes?: number }> = {}) =>
    modelDir({ ...storiesSideFiles(), 'onnx/model.onnx': onnxBytes, ...extra });

  it('refuses a file that is not ONNX', async () => {
    await rejectsWith(() => load(withGraph(new TextEncoder().encode('this is not a model\n'.repeat(20)))), 'NOT_ONNX', /not an ONNX model/);
  });

  it('refuses a truncated ONNX file', async () => {
    const size = fs.statSync(STORIES_ONNX).size;
    await rejectsWith(() => load(withGraph({ copy: STORIES_ONNX, bytes: Math.floor(size * 0.6) })), 'TRUNCATED_MODEL', /truncated/);
  });

  it('refuses missing and truncated external data', async () => {
    const genaiSide = { 'tokenizer.json': { copy: path.join(GENAI, 'tokenizer.json') }, 'genai_config.json': { copy: path.join(GENAI, 'genai_config.json') } };
    const missing = modelDir({ ...genaiSide, 'model.onnx': { copy: path.join(GENAI, 'model.onnx') } });
    await rejectsWith(() => load(missing), 'MISSING_EXTERNAL_DATA', /model\.onnx\.data.*missing/);
    const dataSize = fs.statSync(path.join(GENAI, 'model.onnx.data')).size;
    const cut = modelDir({ ...genaiSide, 'model.onnx': { copy: path.join(GENAI, 'model.onnx') }, 'model.onnx.data': { copy: path.join(GENAI, 'model.onnx.data'), bytes: dataSize >> 1 } });
    await rejectsWith(() => load(cut), 'TRUNCATED_MODEL', /model\.onnx\.data" is truncated/);
  });

  it('refuses external data outside the model folder', async () => {
    const outside = tempDir();
    fs.writeFileSync(path.join(outside, 'weights.bin'), new Uint8Array(64));
    // model.onnx sits in <tmp>/<model>/onnx/, the weights in <tmp>/<outside>/: an existing file outside
    await rejectsWith(() => load(withGraph(externalDataModel(`../../${path.basename(outside)}/weights.bin`))), 'EXTERNAL_DATA_OUTSIDE_FOLDER', /outside the model folder/);
    await rejectsWith(() => load(withGraph(externalDataModel(path.join(outside, 'weights.bin')))), 'EXTERNAL_DATA_OUTSIDE_FOLDER', /absolute path/);
    // a link inside the folder that leads outside is refused too
    const linked = withGraph(externalDataModel('weights.bin'));
    fs.symlinkSync(path.join(outside, 'weights.bin'), path.join(linked, 'onnx/weights.bin'));
    await rejectsWith(() => load(linked), 'EXTERNAL_DATA_OUTSIDE_FOLDER', /links outside/);
  });

  it('refuses encoder-only and vision models', async () => {
    const bert = JSON.stringify({ architectures: ['BertModel'], model_type: 'bert', num_hidden_layers: 1, hidden_size: 4, vocab_size: 16 });
    await rejectsWith(() => load(withGraph(encoderOnlyModel(), { 'config.json': bert })), 'UNSUPPORTED_ARCHITECTURE', /BertModel is not a causal language model/);
    // the graph alone gives it away, whatever config.json claims
    await rejectsWith(() => load(withGraph(encoderOnlyModel())), 'UNSUPPORTED_ARCHITECTURE', /last_hidden_state and no logits: an encoder-only model/);
    await rejectsWith(() => load(withGraph(visionModel())), 'UNSUPPORTED_ARCHITECTURE', /takes an image \(pixel_values\), it is a vision model/);
    const t5 = JSON.stringify({ architectures: ['T5ForConditionalGeneration'], is_encoder_decoder: true });
    await rejectsWith(() => load(withGraph({ link: STORIES_ONNX }, { 'config.json': t5 })), 'UNSUPPORTED_ARCHITECTURE', /encoder-decoder/);
  });

  it('refuses a model larger than memory, counting its external data', async () => {
    const size = fs.statSync(STORIES_ONNX).size;
    await rejectsWith(() => load(STORIES, { memoryLimitBytes: size - 1 }), 'MODEL_TOO_LARGE', /model\.onnx takes .* more than the/);
    const genaiOnnx = fs.statSync(path.join(GENAI, 'model.onnx')).size;
    const check = checkModelFiles(path.join(GENAI, 'model.onnx'), Number.MAX_SAFE_INTEGER);
    assert.equal(check.sizeBytes, genaiOnnx + fs.statSync(path.join(GENAI, 'model.onnx.data')).size);
    assert.throws(() => checkModelFiles(path.join(GENAI, 'model.onnx'), genaiOnnx + 1000), { code: 'MODEL_TOO_LARGE', message: /with its external data/ });
  });

  it('refuses a vocab_size that contradicts the logits', async () => {
    const config = JSON.stringify({ ...storiesConfig, vocab_size: 500 });
    await rejectsWith(() => load(withGraph({ link: STORIES_ONNX }, { 'config.json': config })), 'CONFIG_MISMATCH', /vocab_size is 500 in config\.json but the graph's logits have 512/);
  });

  it('refuses a model without a tokenizer', async () => {
    await rejectsWith(() => load(GQA), 'MISSING_TOKENIZER', /no tokenizer\.json/);
  });
});

describe('loaded models', () => {
  let stories: LoadedModel;
  before(async () => {
    stories = await load(STORIES);
  });
  after(() => stories?.dispose());

  it('describes stories260K from its graph and config', () => {
    const { info } = stories;
    assert.equal(info.path, STORIES);
    assert.equal(info.onnxFile, STORIES_ONNX);
    assert.equal(info.sizeBytes, fs.statSync(STORIES_ONNX).size);
    assert.equal(info.provider, 'cpu');
    assert.equal(info.layerMap.numLayers, storiesConfig.num_hidden_layers);
    assert.equal(info.layerMap.hiddenSize, storiesConfig.hidden_size);
    assert.equal(info.layerMap.vocabSize, storiesConfig.vocab_size);
    assert.equal(info.contextLength, 512);
    assert.equal(info.config.architecture, 'LlamaForCausalLM');
    assert.equal(info.config.hasChatTemplate, false);
  });

  it('gives the reference next-token logits (numpy llama2.c) for every expected.json prompt', async () => {
    for (const c of EXPECTED.cases) {
      const { ids } = stories.encode({ text: c.prompt });
      assert.deepEqual(ids, c.prompt_ids);
      const top = stories.topTokens(await stories.nextLogits(ids), 5);
      assert.deepEqual(top.map((t) => t.id), c.last_prompt_position_top5.map((t) => t.id), c.prompt);
      top.forEach((t, i) => {
        assert.ok(Math.abs(t.logit - c.last_prompt_position_top5[i].logit) < 1e-3, `${c.prompt}: logit ${t.logit}`);
        assert.equal(t.text, c.last_prompt_position_top5[i].token);
      });
      assert.ok(top[0].prob > top[1].prob && top[0].prob <= 1);
    }
  });

  it('refuses a prompt longer than the context window, and ids outside the vocabulary', () => {
    const long = 'Once upon a time there was a cat. '.repeat(80);
    assert.throws(() => stories.encode({ text: long }), { code: 'PROMPT_TOO_LONG', message: /more than the model's context window of 512/ });
    assert.throws(() => stories.encode({ ids: [1, 512] }), { code: 'BAD_REQUEST', message: /token id 512 is outside/ });
    assert.throws(() => stories.encode({}), { code: 'BAD_REQUEST', message: /text or ids/ });
    assert.throws(() => stories.encode({ ids: 'Once' as never }), { code: 'BAD_REQUEST', message: /ids must be an array/ });
    assert.throws(() => stories.encode({ text: 42 as never }), { code: 'BAD_REQUEST', message: /text or ids/ });
  });

  it('refuses num_hidden_layers and hidden_size that contradict the graph', async () => {
    const config = JSON.stringify({ ...storiesConfig, num_hidden_layers: 4, hidden_size: 32 });
    const dir = modelDir({ ...storiesSideFiles(), 'config.json': config, 'onnx/model.onnx': { link: STORIES_ONNX } });
    await rejectsWith(() => load(dir), 'CONFIG_MISMATCH', /num_hidden_layers is 4 in config\.json but the graph has 5; hidden_size is 32 in config\.json but the graph has 64/);
  });

  it('loads a chosen variant, given as a single .onnx file', async () => {
    const variant = await load(path.join(STORIES, 'onnx/model_no_past.onnx'));
    try {
      assert.equal(variant.info.name, 'stories260K (model_no_past)');
      assert.equal(variant.info.layerMap.hasKvCache, false);
      const top = variant.topTokens(await variant.nextLogits(EXPECTED.cases[2].prompt_ids), 5);
      assert.deepEqual(top.map((t) => t.id), EXPECTED.cases[2].last_prompt_position_top5.map((t) => t.id));
    } finally {
      await variant.dispose();
    }
  });

  it('loads the onnxruntime-genai layout with external data', async () => {
    const genai = await load(GENAI);
    try {
      assert.equal(genai.info.layerMap.numLayers, genaiConfig.model.decoder.num_hidden_layers);
      assert.equal(genai.info.layerMap.hiddenSize, genaiConfig.model.decoder.hidden_size);
      assert.equal(genai.info.layerMap.dtype, 'float16');
      assert.equal(genai.info.contextLength, 2048);
      assert.equal(genai.info.config.hasChatTemplate, true);
      const out = await genai.engine.forward(genai.encode({ text: 'Hello world' }).ids, { logits: 'last' });
      assert.equal(out.logits!.cols, genaiConfig.model.vocab_size);
    } finally {
      await genai.dispose();
    }
  });
});
