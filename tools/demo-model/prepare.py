"""Step 1 of the demo-model build: tokenizer, held-out split, probing sets and demo workspace.

Writes (paths relative to the repository root):
  demo/model/tokenizer.json, tokenizer_config.json, special_tokens_map.json
  demo/data/heldout.jsonl          held-out stories {"text"}
  demo/data/tasks.jsonl            held-out planted-task prompts {"task", "prompt", "answer"}
  demo/data/probe-gender.csv       text,label,group,span (label female/male, group = name)
  demo/data/probe-sentiment.csv    text,label,group,span (label happy/sad, group = mood word)
  demo/workspace/*.prompt.md, prompts.jsonl
Usage: /usr/bin/python3 tools/demo-model/prepare.py
"""
import csv
import json
import os
import random

import grammar
from bpe import BPE
from settings import ROOT, MODEL_DIR, DATA_DIR, WORKSPACE_DIR, SEEDS, VOCAB_SIZE, TOKENIZER_STORIES, MAX_POSITIONS

HELDOUT_STORIES = 200
TASK_CASES = 100
PROBE_ROWS = 400


def write_tokenizer(bpe):
    os.makedirs(MODEL_DIR, exist_ok=True)
    bpe.save(os.path.join(MODEL_DIR, 'tokenizer.json'))
    special = {'bos_token': '<s>', 'eos_token': '</s>', 'unk_token': '<unk>'}
    config = {
        'add_bos_token': True,
        'add_eos_token': False,
        'added_tokens_decoder': {str(i): {'content': t, 'lstrip': False, 'normalized': False, 'rstrip': False,
                                          'single_word': False, 'special': True}
                                 for i, t in enumerate(['<unk>', '<s>', '</s>'])},
        **special,
        'pad_token': None,
        'clean_up_tokenization_spaces': False,
        'legacy': True,
        'model_max_length': MAX_POSITIONS,
        'spaces_between_special_tokens': False,
        'tokenizer_class': 'LlamaTokenizer',
        # No chat training: the template just concatenates message contents after BOS.
        'chat_template': "{{ bos_token }}{% for message in messages %}{{ message['content'] }}"
                         "{% if not loop.last %} {% endif %}{% endfor %}",
    }
    for name, obj in [('tokenizer_config.json', config), ('special_tokens_map.json', special)]:
        with open(os.path.join(MODEL_DIR, name), 'w') as f:
            json.dump(obj, f, indent=2)


def write_jsonl(path, rows):
    with open(path, 'w') as f:
        for r in rows:
            f.write(json.dumps(r) + '\n')


def write_probe_csv(path, make, seed):
    rng = random.Random(seed)
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['text', 'label', 'group', 'span'])
        for _ in range(PROBE_ROWS):
            text, label, group, (s, e) = make(rng)
            w.writerow([text, label, group, f'{s}:{e}'])


def heldout_stories():
    return grammar.make_stories(SEEDS['heldout'], HELDOUT_STORIES)


def heldout_tasks():
    rng = random.Random(SEEDS['tasks'])
    cases = {'pronoun': [], 'colour': [], 'count': []}
    for story in heldout_stories():
        for task, prompt, answer in grammar.task_prompts(story, rng):
            cases[task].append({'task': task, 'prompt': prompt, 'answer': answer})
    return [c for rows in cases.values() for c in rows[:TASK_CASES]]


def prompt_of(story, task):
    return next(p for t, p, _ in grammar.task_prompts(story, random.Random(0)) if t == task)


def write_workspace():
    """Prompt files from distinct workspace stories (one per file) and a prompts.jsonl with answers."""
    os.makedirs(WORKSPACE_DIR, exist_ok=True)
    rng = random.Random(SEEDS['workspace'])
    stories = grammar.make_stories(SEEDS['workspace'], 40)
    rows = [dict(task=t, prompt=p, answer=a) for s in stories for t, p, a in grammar.task_prompts(s, rng)]
    # The colour demo: a distractor object, and the asked-about colour said only once, far back.
    colour_story = next(s for s in stories if s.distractor and
                        grammar.colour_case(prompt_of(s, 'colour'), s.colour) == (1, True))
    count_story = next(s for s in stories if s.counting and s is not colour_story)
    sad = next(s for s in stories if s.mood == 'sad' and all(s is not x for x in (colour_story, count_story)))
    whole = next(s for s in stories if all(s is not x for x in (colour_story, count_story, sad)))
    prompt = lambda story, task: next(p for t, p, _ in grammar.task_prompts(story, rng) if t == task)
    files = {
        'pronoun.prompt.md': grammar.gender_probe_example(rng)[0],
        'colour.prompt.md': prompt(colour_story, 'colour'),
        'counting.prompt.md': prompt(count_story, 'count'),
        'mood.prompt.md': ' '.join(sad.sentences[:-1] + [f'At the end of the day, {sad.character.subj} was']),
        'story.prompt.md': ' '.join(whole.sentences[:-1]),  # the model writes the ending
    }
    for name, text in files.items():
        with open(os.path.join(WORKSPACE_DIR, name), 'w') as f:
            f.write(text + '\n')
    write_jsonl(os.path.join(WORKSPACE_DIR, 'prompts.jsonl'), rows[:24])
    with open(os.path.join(WORKSPACE_DIR, 'demo-prompts.md'), 'w') as f:
        f.write(demo_prompts_markdown(files, colour_story))


def demo_prompts_markdown(files, colour_story):
    """One Markdown page with every workspace prompt in a ```prompt block and what to try on it: the
    extension's "Open Demo Prompts" command opens a copy (the .vsix ships this file, not the workspace)."""
    fence = lambda name: f'```prompt\n{files[name]}\n```\n'
    return f'''# layerlens demo prompts

Prompts for the bundled demo model, a tiny Llama trained on generated stories with planted structure
(its model card: `demo/model/MODEL_CARD.md` in the extension). Each block below is a prompt: use the
**Decode layers · Skip sweep · Probe readout** links above it. The first analysis loads the demo model.

## Colour recall

The colour of the {colour_story.obj} is said once, far back, and another coloured object comes after it.
**Decode layers**, then click the top row's cell at the last token to make its top word (the colour) the
target: the rank across depth shows how late the colour reaches the prediction. **Skip sweep** on the
prompt with the answer added ("It was {colour_story.colour}") and the answer token marked in the panel:
which blocks carry the recall.

{fence('colour.prompt.md')}
## Pronoun

Only the name tells whether the next word is "he" or "she". **Decode layers** shows at which block the
pronoun becomes the top prediction; **Probe readout** with a gender probe (train one with
**layerlens: Train Probes…** on `demo/data/probe-gender.csv`) reads the gender token by token.

{fence('pronoun.prompt.md')}
## Counting

The next word is the next number. **Skip sweep**: which block the count needs.

{fence('counting.prompt.md')}
## Mood

A sad story that ends just before the mood word. **Decode layers**: when the sad words take over.

{fence('mood.prompt.md')}
## A story

A whole story up to its ending: **Decode layers** over every token, **Skip sweep** with early exit and
self-speculative decoding (the ending is what the model writes).

{fence('story.prompt.md')}'''


def main():
    bpe = BPE.train([s.text for s in grammar.make_stories(SEEDS['train'], TOKENIZER_STORIES)], VOCAB_SIZE)
    write_tokenizer(bpe)
    os.makedirs(DATA_DIR, exist_ok=True)
    stories = heldout_stories()
    write_jsonl(os.path.join(DATA_DIR, 'heldout.jsonl'), [{'text': s.text} for s in stories])
    write_jsonl(os.path.join(DATA_DIR, 'tasks.jsonl'), heldout_tasks())
    write_probe_csv(os.path.join(DATA_DIR, 'probe-gender.csv'), grammar.gender_probe_example, SEEDS['probe_gender'])
    write_probe_csv(os.path.join(DATA_DIR, 'probe-sentiment.csv'), grammar.sentiment_probe_example,
                    SEEDS['probe_sentiment'])
    write_workspace()
    lengths = [len(bpe.encode(s.text)) + 1 for s in stories]
    print(f'vocab {len(bpe.vocab)}, held-out story tokens: mean {sum(lengths) / len(lengths):.1f}, max {max(lengths)}')
    print('written under', os.path.relpath(MODEL_DIR, ROOT), os.path.relpath(DATA_DIR, ROOT),
          os.path.relpath(WORKSPACE_DIR, ROOT))


if __name__ == '__main__':
    main()
