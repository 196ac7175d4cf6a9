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


@torch.no_grad()
def task_accuracy(model, bpe, cases):
    """Share of prompts whose greedy next token is the answer word (all answers are single tokens)."""
    by_task = {}
    for c in cases:
        ids = bpe.encode(c['prompt'])
        answer = bpe.encode(c['answer'], bos=False)  # the normaliser prepends the word's space
        assert len(answer) == 1, c
        pred = model.logits(torch.tensor([ids]))[0, -1].argmax().item()
        by_task.setdefault(c['task'], []).append(pred == answer[0])
    return {t: sum(v) / len(v) for t, v in by_task.items()}


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
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))

    rng = random.Random(args.data_seed)
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
        loss = F.cross_entropy(model.logits(x).flatten(0, 1), y.flatten(), ignore_index=IGNORE)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        recent.append(loss.item())
        losses.append(loss.item())
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
        'init': args.init, 'data_seed': args.data_seed,
        'peak_lr': args.lr, 'train_tokens': tokens, 'train_stories': args.steps * args.batch,
        'heldout_duplicates_skipped': skipped, 'train_seconds': round(time.time() - start, 1),
        'train_loss_last_100_steps': sum(losses[-100:]) / len(losses[-100:]), 'heldout_loss': mean_loss(model, bpe, heldout),
        'tasks': task_accuracy(model, bpe, tasks), 'task_cases': {t: sum(c['task'] == t for c in tasks)
                                                                   for t in ('pronoun', 'colour', 'count')},
        'history': history,
    }
    with open(os.path.join(args.out, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1)
    print('final', json.dumps({k: v for k, v in metrics.items() if k != 'history'}), flush=True)


if __name__ == '__main__':
    main()
