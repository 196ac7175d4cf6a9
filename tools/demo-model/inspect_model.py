"""Measure what layerlens should find in the trained demo model (PyTorch, independent of the extension).

  * logit lens: per layer, the share of held-out task prompts whose top-1 token (final norm + tied
    unembedding applied to that block's output) is the answer;
  * skip: task accuracy with one block removed (its residual update skipped);
  * probes: grouped 5-fold logistic-regression accuracy per layer on the probing CSVs (last token).
Reads work/checkpoint.pt and demo/data; writes work/inspect.json (export.py puts it in the model card).
Usage: /usr/bin/python3 tools/demo-model/inspect_model.py
"""
import csv
import json
import os

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from bpe import BPE  # noqa: E402
from export import load_model  # noqa: E402
from model import rope_tables  # noqa: E402
from settings import MODEL_DIR, DATA_DIR, WORK_DIR  # noqa: E402
from train import read_jsonl  # noqa: E402

CASES_PER_TASK = 100
FOLDS = 5


@torch.no_grad()
def residuals(model, ids, skip=None):
    """Residual stream after the embedding and after each block, [L + 1, T, d]; block `skip` is left out."""
    m = model.model
    t = len(ids)
    x = torch.tensor([ids])
    pos = torch.arange(t)[None]
    mask = torch.triu(torch.full((t, t), float('-inf')), 1)[None, None]
    cos, sin = rope_tables(pos, model.config.head_dim, model.config.rope_theta)
    h = m.embed_tokens(x)
    out = [h[0]]
    empty = model.empty_past(1)
    for i, layer in enumerate(m.layers):
        if i != skip:
            h, _, _ = layer(h, cos, sin, mask, empty[2 * i], empty[2 * i + 1])
        out.append(h[0])
    return torch.stack(out)


def lens_top1(model, resid):
    return model.lm_head(model.model.norm(resid)).argmax(-1)


@torch.no_grad()
def task_measurements(model, bpe, tasks):
    L = model.config.num_hidden_layers
    lens = {}
    skip = {}
    for task in ('pronoun', 'colour', 'count'):
        cases = [c for c in tasks if c['task'] == task][:CASES_PER_TASK]
        hits_lens = torch.zeros(L + 1)
        hits_skip = torch.zeros(L + 1)  # index L: nothing skipped
        for c in cases:
            ids = bpe.encode(c['prompt'])
            answer = bpe.encode(c['answer'], bos=False)[0]
            hits_lens += (lens_top1(model, residuals(model, ids)[:, -1]) == answer).float()
            for k in range(L + 1):
                resid = residuals(model, ids, skip=k if k < L else None)
                hits_skip[k] += float(lens_top1(model, resid[-1, -1]) == answer)
        lens[task] = [round(float(h) / len(cases), 3) for h in hits_lens]
        skip[task] = [round(float(h) / len(cases), 3) for h in hits_skip]
    return lens, skip


def probe_accuracy(features, labels, groups):
    """Grouped k-fold logistic regression (standardised features, L2 1e-2); mean test accuracy."""
    names = sorted(set(groups))
    correct = 0
    for f in range(FOLDS):
        test_groups = set(names[f::FOLDS])
        test = torch.tensor([g in test_groups for g in groups])
        xtr, ytr, xte, yte = features[~test], labels[~test], features[test], labels[test]
        mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
        xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
        w = torch.zeros(xtr.shape[1], requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=200)

        def closure():
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(xtr @ w + b, ytr) + 1e-2 * (w * w).sum()
            loss.backward()
            return loss
        opt.step(closure)
        with torch.no_grad():
            correct += int(((xte @ w + b > 0).float() == yte).sum())
    return round(correct / len(labels), 3)


def probe_measurements(model, bpe, name):
    with open(os.path.join(DATA_DIR, name)) as f:
        rows = list(csv.DictReader(f))
    classes = sorted({r['label'] for r in rows})
    feats = torch.stack([residuals(model, bpe.encode(r['text']))[:, -1] for r in rows])  # [N, L + 1, d]
    labels = torch.tensor([float(r['label'] == classes[1]) for r in rows])
    groups = [r['group'] for r in rows]
    return {'classes': classes, 'rows': len(rows),
            'accuracy_by_layer': [probe_accuracy(feats[:, k], labels, groups) for k in range(feats.shape[1])]}


def main():
    torch.set_num_threads(1)
    model = load_model()
    bpe = BPE.load(os.path.join(MODEL_DIR, 'tokenizer.json'))
    tasks = read_jsonl(os.path.join(DATA_DIR, 'tasks.jsonl'))
    lens, skip = task_measurements(model, bpe, tasks)
    result = {
        'layers': 'index 0 = embedding, k = after block k-1 (lens, probes); skip index k = block k removed, last = none',
        'logit_lens_top1': lens,
        'skip_one_block_accuracy': skip,
        'probe_gender_last_token': probe_measurements(model, bpe, 'probe-gender.csv'),
        'probe_sentiment_last_token': probe_measurements(model, bpe, 'probe-sentiment.csv'),
    }
    with open(os.path.join(WORK_DIR, 'inspect.json'), 'w') as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))


if __name__ == '__main__':
    main()
