// The demo model's tokenizer in @huggingface/tokenizers: same ids as the Python BPE that trained the model
// (demo/data/reference.json), lossless round trip of the held-out split, byte fallback for unseen text,
// and the project's own loader accepts the folder.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findModelFiles } from '../../../native/model/files';
import { ModelTokenizer } from '../../../native/model/tokenizer';
import { CONFIG, DEMO_DATA, DEMO_MODEL, loadTokenizer, readJson, readJsonl, type TaskCase } from './helpers';

const tok = loadTokenizer();
const heldout = readJsonl<{ text: string }>(path.join(DEMO_DATA, 'heldout.jsonl')).map((r) => r.text);

describe('demo model tokenizer', () => {
  it('encodes like the Python BPE the model was trained with (BOS first)', () => {
    const ref = readJson<{ cases: Array<{ prompt: string; ids: number[] }> }>(path.join(DEMO_DATA, 'reference.json'));
    assert.ok(ref.cases.length > 0);
    for (const c of ref.cases) assert.deepEqual(tok.encode(c.prompt).ids, c.ids);
    assert.equal(tok.encode('Lily').ids[0], CONFIG.bos_token_id);
  });

  it('round-trips every held-out story without unknown ids', () => {
    assert.ok(heldout.length >= 100);
    const vocab = CONFIG.vocab_size;
    for (const text of heldout) {
      const { ids } = tok.encode(text);
      assert.equal(ids[0], CONFIG.bos_token_id);
      assert.ok(ids.slice(1).every((id) => Number.isInteger(id) && id > 2 && id < vocab), 'ids in range, no <unk>');
      assert.equal(tok.decode(ids, { skip_special_tokens: true }), text);
    }
  });

  it('has one token per planted answer word', () => {
    const tasks = readJsonl<TaskCase>(path.join(DEMO_DATA, 'tasks.jsonl'));
    for (const answer of new Set(tasks.map((t) => t.answer))) {
      assert.equal(tok.encode(answer, { add_special_tokens: false }).ids.length, 1, answer);
    }
  });

  it('falls back to bytes for text outside the corpus and still round-trips', () => {
    for (const text of ['Grüße, 東京! 🙂', 'tabs\tand\nnewlines', 'x']) {
      const { ids } = tok.encode(text);
      assert.ok(ids.every((id) => id !== 0), 'no <unk>');
      assert.equal(tok.decode(ids, { skip_special_tokens: true }), text);
    }
  });

  it("loads with the project's model loader, with BOS/EOS from the config", () => {
    const t = ModelTokenizer.load(findModelFiles(DEMO_MODEL));
    assert.equal(t.bosId, CONFIG.bos_token_id);
    assert.equal(t.eosId, CONFIG.eos_token_id);
    assert.equal(t.decode(t.encode(heldout[0]).ids), heldout[0]);
  });

  it('has a chat template that wraps a user turn as BOS + text (the model was never trained on chat)', () => {
    const t = ModelTokenizer.load(findModelFiles(DEMO_MODEL));
    assert.deepEqual(t.encode(heldout[1], { chatTemplate: true }).ids, t.encode(heldout[1]).ids);
  });
});
