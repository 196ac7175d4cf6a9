"""Step 3 of the demo-model build: export the trained checkpoint in the Hugging Face / Optimum layout.

Reads tools/demo-model/work/{checkpoint.pt,metrics.json,inspect.json}. Writes demo/model/{config.json,
generation_config.json, onnx/model.onnx, MODEL_CARD.md} and demo/data/reference.json (PyTorch logits
and greedy continuations that the unit tests compare onnxruntime against).
Usage: /usr/bin/python3 tools/demo-model/export.py
"""
import json
import os

import torch

from bpe import BPE, BOS_ID, EOS_ID
from model import Config, LlamaForCausalLM
from settings import MODEL_DIR, DATA_DIR, WORK_DIR, HERE

OPSET = 14
REFERENCE_PROMPTS = 3
GREEDY_TOKENS = 24


def load_model():
    ckpt = torch.load(os.path.join(WORK_DIR, 'checkpoint.pt'))
    model = LlamaForCausalLM(Config(**ckpt['config']))
    model.load_state_dict(ckpt['state_dict'])
    return model.eval()


def write_configs(c: Config):
    config = {
        'architectures': ['LlamaForCausalLM'],
        'model_type': 'llama',
        'hidden_size': c.hidden_size,
        'intermediate_size': c.intermediate_size,
        'num_hidden_layers': c.num_hidden_layers,
        'num_attention_heads': c.num_attention_heads,
        'num_key_value_heads': c.num_key_value_heads,
        'head_dim': c.head_dim,
        'vocab_size': c.vocab_size,
        'hidden_act': 'silu',
        'rms_norm_eps': c.rms_norm_eps,
        'rope_theta': c.rope_theta,
        'rope_scaling': None,
        'max_position_embeddings': c.max_position_embeddings,
        'bos_token_id': BOS_ID,
        'eos_token_id': EOS_ID,
        'pad_token_id': None,
        'tie_word_embeddings': True,
        'attention_bias': False,
        'attention_dropout': 0.0,
        'mlp_bias': False,
        'initializer_range': 0.02,
        'use_cache': True,
        'torch_dtype': 'float32',
    }
    generation = {'bos_token_id': BOS_ID, 'eos_token_id': EOS_ID, 'do_sample': False,
                  'max_length': c.max_position_embeddings}
    for name, obj in [('config.json', config), ('generation_config.json', generation)]:
        with open(os.path.join(MODEL_DIR, name), 'w') as f:
            json.dump(obj, f, indent=2)


def export_onnx(model):
    c = model.config
    L = c.num_hidden_layers
    past_names, present_names = [], []
    axes = {
        'input_ids': {0: 'batch_size', 1: 'sequence_length'},
        'attention_mask': {0: 'batch_size', 1: 'past_sequence_length + sequence_length'},
        'position_ids': {0: 'batch_size', 1: 'sequence_length'},
        'logits': {0: 'batch_size', 1: 'sequence_length'},
    }
    for i in range(L):
        for kind in ('key', 'value'):
            past_names.append(f'past_key_values.{i}.{kind}')
            present_names.append(f'present.{i}.{kind}')
            axes[past_names[-1]] = {0: 'batch_size', 2: 'past_sequence_length'}
            axes[present_names[-1]] = {0: 'batch_size', 2: 'past_sequence_length + sequence_length'}
    b, s, p = 2, 3, 4
    ids = torch.randint(3, c.vocab_size, (b, s))
    mask = torch.ones(b, p + s, dtype=torch.int64)
    pos = torch.arange(p, p + s)[None].expand(b, s).contiguous()
    past = [torch.randn(b, c.num_key_value_heads, p, c.head_dim) for _ in range(2 * L)]
    os.makedirs(os.path.join(MODEL_DIR, 'onnx'), exist_ok=True)
    torch.onnx.export(model, (ids, mask, pos, *past), os.path.join(MODEL_DIR, 'onnx', 'model.onnx'),
                      input_names=['input_ids', 'attention_mask', 'position_ids'] + past_names,
                      output_names=['logits'] + present_names, dynamic_axes=axes, opset_version=OPSET,
                      do_constant_folding=True)


@torch.no_grad()
def write_reference(model, bpe):
    """PyTorch last-position logits and greedy continuations (recomputed without cache) for a few tasks."""
    with open(os.path.join(DATA_DIR, 'tasks.jsonl')) as f:
        tasks = [json.loads(line) for line in f]
    picked = [next(t for t in tasks if t['task'] == name) for name in ('pronoun', 'colour', 'count')]
    rows = []
    for case in picked[:REFERENCE_PROMPTS]:
        ids = bpe.encode(case['prompt'])
        logits = model.logits(torch.tensor([ids]))[0, -1]
        seq = list(ids)
        for _ in range(GREEDY_TOKENS):
            seq.append(int(model.logits(torch.tensor([seq]))[0, -1].argmax()))
        rows.append({'prompt': case['prompt'], 'ids': ids, 'last_logits': [round(float(x), 6) for x in logits],
                     'greedy_ids': seq[len(ids):]})
    with open(os.path.join(DATA_DIR, 'reference.json'), 'w') as f:
        json.dump({'about': 'PyTorch (tools/demo-model/model.py) outputs of demo/model, for checking the ONNX export',
                   'cases': rows}, f)


def layer_table(rows, first_header, columns):
    """Markdown table: one row per (name, values) with the given column headers."""
    lines = ['| ' + ' | '.join([first_header] + columns) + ' |', '|' + '---|' * (len(columns) + 1)]
    lines += ['| ' + ' | '.join([name] + [f'{100 * v:.0f}%' for v in values]) + ' |' for name, values in rows]
    return '\n'.join(lines)


def inspection_tables(inspect, layers):
    blocks = [f'block {k}' for k in range(layers)]
    return {
        'lens_table': layer_table(inspect['logit_lens_top1'].items(), 'task', ['embedding'] + blocks),
        'skip_table': layer_table(inspect['skip_one_block_accuracy'].items(), 'task',
                                  [f'skip {b}' for b in blocks] + ['no skip']),
        'probe_table': layer_table([(name, inspect[key]['accuracy_by_layer']) for name, key in
                                    [('gender (female/male)', 'probe_gender_last_token'),
                                     ('sentiment (happy/sad)', 'probe_sentiment_last_token')]],
                                   'probe', ['embedding'] + blocks),
    }


def write_model_card(metrics, inspect, onnx_bytes):
    with open(os.path.join(HERE, 'MODEL_CARD.template.md')) as f:
        template = f.read()
    c = metrics['config']
    t = metrics['tasks']
    n = metrics['task_cases']
    values = {
        **{k: v for k, v in c.items()},
        'head_dim': c['hidden_size'] // c['num_attention_heads'],
        'parameters': f"{metrics['parameters']:,}",
        'onnx_mb': f'{onnx_bytes / 1e6:.2f}',
        'steps': metrics['steps'], 'batch': metrics['batch'], 'peak_lr': metrics['peak_lr'],
        'train_stories': f"{metrics['train_stories']:,}", 'train_tokens': f"{metrics['train_tokens']:,}",
        'train_minutes': f"{metrics['train_seconds'] / 60:.1f}",
        'train_loss': f"{metrics['train_loss_last_100_steps']:.3f}",
        'heldout_loss': f"{metrics['heldout_loss']:.3f}",
        'acc_pronoun': f"{100 * t['pronoun']:.0f}%", 'acc_colour': f"{100 * t['colour']:.0f}%",
        'acc_count': f"{100 * t['count']:.0f}%",
        'n_pronoun': n['pronoun'], 'n_colour': n['colour'], 'n_count': n['count'],
        'acc_colour_once': f"{100 * t['colour, said once']:.0f}%", 'n_colour_once': n['colour, said once'],
        'acc_colour_other': f"{100 * t['colour, other colour in context']:.0f}%",
        'n_colour_other': n['colour, other colour in context'],
        'recall_weight': f"{metrics['recall_weight']:g}", 'embedding_decay': f"{metrics['embedding_decay']:g}",
        **inspection_tables(inspect, c['num_hidden_layers']),
    }
    with open(os.path.join(MODEL_DIR, 'MODEL_CARD.md'), 'w') as f:
        f.write(template.format(**values))


def main():
    torch.manual_seed(0)
    model = load_model()
    bpe = BPE.load(os.path.join(MODEL_DIR, 'tokenizer.json'))
    assert len(bpe.vocab) == model.config.vocab_size
    write_configs(model.config)
    export_onnx(model)
    write_reference(model, bpe)
    with open(os.path.join(WORK_DIR, 'metrics.json')) as f:
        metrics = json.load(f)
    with open(os.path.join(WORK_DIR, 'inspect.json')) as f:
        inspect = json.load(f)
    write_model_card(metrics, inspect, os.path.getsize(os.path.join(MODEL_DIR, 'onnx', 'model.onnx')))
    print('exported to', MODEL_DIR)


if __name__ == '__main__':
    main()
