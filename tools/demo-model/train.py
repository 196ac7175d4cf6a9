"""Step 2 of the demo-model build: train the small Llama on freshly generated stories (CPU).

Reads demo/model/tokenizer.json and demo/data/{heldout,tasks}.jsonl (written by prepare.py).
Writes tools/demo-model/work/checkpoint.pt and work/metrics.json (train / held-out loss, task accuracies).
Usage: /usr/bin/python3 tools/demo-model/train.py [--steps N] [--batch B] [--threads T]
One thread by default: on a shared, busy machine OpenMP's spinning makes 2 threads many times slower.
"""
import argparse
import json
import math
import os

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
import random
import time

import torch
import torch.nn.functional as F

import grammar
from bpe import BPE, EOS_ID, UNK_ID
from model import Config, LlamaForCausalLM
from settings import MODEL_DIR, DATA_DIR, WORK_DIR, SEEDS

IGNORE = -100


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def batch_tensors(seqs):
    """Right-padded inputs and next-token targets (padding ignored by the loss)."""
    width = max(len(s) for s in seqs) - 1
    x = torch.full((len(seqs), width), UNK_ID, dtype=torch.int64)
    y = torch.full((len(seqs), width), IGNORE, dtype=torch.int64)
    for i, s in enumerate(seqs):
        x[i, :len(s) - 1] = torch.tensor(s[:-1])
        y[i, :len(s) - 1] = torch.tensor(s[1:])
    return x, y


class RecallTargets:
    """Finds the target positions whose token is a colour said earlier in the story: the colour after
    "It was" (the answer to "What colour was the X?"), after "The X was" ("She had a red ball. The ball
    was red and shiny." and the colour facts) and after "with her" / "with his" ("She played with her
    red ball.", said after the object was introduced)."""

    def __init__(self, bpe):
        one = lambda w: bpe.encode(w, bos=False)[0]
        self.colours = torch.tensor([one(c) for c in grammar.COLOURS])
        self.was = one('was')
        self.before_was = torch.tensor([one(w) for w in ['It'] + grammar.OBJECTS])
        self.with_, self.possessives = one('with'), torch.tensor([one('her'), one('his')])

    def mask(self, x, y):
        prev = torch.cat([torch.full_like(x[:, :1], -1), x[:, :-1]], dim=1)
        cue = ((x == self.was) & torch.isin(prev, self.before_was)) | \
              ((prev == self.with_) & torch.isin(x, self.possessives))
        return cue & torch.isin(y, self.colours)


def weighted_loss(logits, y, weights):
    """(training loss, plain loss): cross-entropy summed with each target scaled by its weight (1 for
    ordinary tokens) over the number of real targets, and the unweighted mean that the logs report."""
    per_token = F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=IGNORE, reduction='none')
    count = (y != IGNORE).sum()
    return (per_token * weights.flatten()).sum() / count, per_token.sum().detach() / count


def story_ids(bpe, text):
    return bpe.encode(text) + [EOS_ID]


@torch.no_grad()
def mean_loss(model, bpe, texts, batch=50):
    total, count = 0.0, 0
    for i in range(0, len(texts), batch):
        x, y = batch_tensors([story_ids(bpe, t) for t in texts[i:i + batch]])
        total += F.cross_entropy(model.logits(x).flatten(0, 1), y.flatten(), ignore_index=IGNORE, reduction='sum').item()
        count += (y != IGNORE).sum().item()
    return total / count


def task_slices(case):
    """The task of a held-out case, plus the harder colour-recall slices it belongs to: 'colour, said once'
    (the colour appears only once before the question) and 'colour, other colour in context' (copying
    any colour is not enough)."""
    names = [case['task']]
    if case['task'] == 'colour':
        mentions, other = grammar.colour_case(case['prompt'], case['answer'])
        names += ['colour, said once'] * (mentions == 1) + ['colour, other colour in context'] * other
    return names


@torch.no_grad()
def task_accuracy(model, bpe, cases):
    """Share of prompts whose greedy next token is the answer word (all answers are single tokens), per
    task slice (see task_slices)."""
    by_task = {}
    for c in cases:
        ids = bpe.encode(c['prompt'])
        answer = bpe.encode(c['answer'], bos=False)  # the normaliser prepends the word's space
        assert len(answer) == 1, c
        pred = model.logits(torch.tensor([ids]))[0, -1].argmax().item()
        for name in task_slices(c):
            by_task.setdefault(name, []).append(pred == answer[0])
    return {t: sum(v) / len(v) for t, v in by_task.items()}


def task_counts(cases):
    counts = {}
    for c in cases:
        for name in task_slices(c):
            counts[name] = counts.get(name, 0) + 1
    return counts


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=2400)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--eval-every', type=int, default=300)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--out', default=WORK_DIR, help='folder for checkpoint.pt and metrics.json')
    ap.add_argument('--heads', type=int, default=Config.num_attention_heads)
    ap.add_argument('--kv-heads', type=int, default=Config.num_key_value_heads)
    ap.add_argument('--rope-theta', type=float, default=Config.rope_theta)
    ap.add_argument('--init', help='continue from this checkpoint (its config wins over the size flags)')
    ap.add_argument('--data-seed', type=int, default=SEEDS['train'], help='seed of the training story stream')
    ap.add_argument('--embedding-decay', type=float, default=0.0, help='weight decay of the (tied) embedding')
    ap.add_argument('--recall-weight', type=float, default=1.0,
                    help='loss weight of recalled-colour targets (see RecallTargets; 10 learns colour recall sooner); '
                         'other targets weigh 1')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(SEEDS['init'])
    os.makedirs(args.out, exist_ok=True)
    bpe = BPE.load(os.path.join(MODEL_DIR, 'tokenizer.json'))
    heldout = [r['text'] for r in read_jsonl(os.path.join(DATA_DIR, 'heldout.jsonl'))]
    tasks = read_jsonl(os.path.join(DATA_DIR, 'tasks.jsonl'))
    excluded = set(heldout)

    config = Config(vocab_size=len(bpe.vocab), num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                    rope_theta=args.rope_theta)
    init = torch.load(args.init) if args.init else None
    if init:
        config = Config(**init['config'])
    model = LlamaForCausalLM(config)
    if init:
        model.load_state_dict(init['state_dict'])
    n_params = sum(p.numel() for p in model.parameters())
    print(f'config {config.to_dict()}, {n_params} parameters', flush=True)
    # Weight decay on the projection matrices only. Not on the (tied) embedding: words the corpus uses
    # interchangeably in most places (the colours) would have their differences decayed away before
    # the model learns the few places where they matter (recall).
    embedding = model.model.embed_tokens.weight
    matrices = [p for p in model.parameters() if p.dim() >= 2 and p is not embedding]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': matrices, 'weight_decay': 0.1}, {'params': rest, 'weight_decay': 0.0},
                             {'params': [embedding], 'weight_decay': args.embedding_decay}],
                            lr=args.lr, betas=(0.9, 0.95))

    rng = random.Random(args.data_seed)
    recall = RecallTargets(bpe)
    skipped, tokens, recent, losses = 0, 0, [], []
    history = []
    start = time.time()
    for step in range(args.steps):
        texts = []
        while len(texts) < args.batch:
            story = grammar.make_story(rng)
            if story.text in excluded:
                skipped += 1
            else:
                texts.append(story.text)
        x, y = batch_tensors([story_ids(bpe, t) for t in texts])
        tokens += (y != IGNORE).sum().item()
        for group in opt.param_groups:
            group['lr'] = lr_at(step, args.steps, args.lr, warmup=min(200, args.steps // 10 + 1))
        weights = 1.0 + (args.recall_weight - 1.0) * recall.mask(x, y).float()
        loss, plain = weighted_loss(model.logits(x), y, weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        recent.append(plain.item())
        losses.append(plain.item())
        if (step + 1) % 50 == 0:
            print(f'step {step + 1} loss {sum(recent) / len(recent):.4f} {time.time() - start:.0f}s', flush=True)
            history.append({'step': step + 1, 'train_loss': sum(recent) / len(recent)})
            recent = []
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            model.eval()
            ev = {'step': step + 1, 'heldout_loss': mean_loss(model, bpe, heldout),
                  'tasks': task_accuracy(model, bpe, tasks), 'seconds': time.time() - start}
            model.train()
            print('eval', json.dumps(ev), flush=True)
            history.append(ev)
            torch.save({'config': config.to_dict(), 'state_dict': model.state_dict()},
                       os.path.join(args.out, 'checkpoint.pt'))

    model.eval()
    metrics = {
        'config': config.to_dict(), 'parameters': n_params, 'steps': args.steps, 'batch': args.batch,
        'init': args.init, 'data_seed': args.data_seed, 'recall_weight': args.recall_weight,
        'embedding_decay': args.embedding_decay,
        'peak_lr': args.lr, 'train_tokens': tokens, 'train_stories': args.steps * args.batch,
        'heldout_duplicates_skipped': skipped, 'train_seconds': round(time.time() - start, 1),
        'train_loss_last_100_steps': sum(losses[-100:]) / len(losses[-100:]), 'heldout_loss': mean_loss(model, bpe, heldout),
        'tasks': task_accuracy(model, bpe, tasks), 'task_cases': task_counts(tasks),
        'history': history,
    }
    with open(os.path.join(args.out, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1)
    print('final', json.dumps({k: v for k, v in metrics.items() if k != 'history'}), flush=True)


if __name__ == '__main__':
    main()
