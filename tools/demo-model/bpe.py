"""Byte-fallback BPE (SentencePiece-like, as in Llama 2's tokenizer.json) trained from scratch.

The text is normalised like the Hugging Face Llama tokenizer: prepend '▁', replace ' ' by '▁', then
BPE over the whole string with `byte_fallback` for characters outside the vocabulary. Merges are
learned inside chunks (a '▁'-prefixed letter run, or one other character with an optional '▁'), so no
merge ever spans a chunk boundary and encoding chunk by chunk equals the whole-string BPE that
@huggingface/tokenizers runs.
"""
from collections import Counter
import json
import re

SPECIALS = ['<unk>', '<s>', '</s>']
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
SPACE = '\u2581'
CHUNK = re.compile(f'{SPACE}?[A-Za-z]+|{SPACE}?[^A-Za-z{SPACE}]|{SPACE}')


def normalise(text):
    return SPACE + text.replace(' ', SPACE)


def chunks(text):
    return CHUNK.findall(normalise(text))


class BPE:
    def __init__(self, vocab, merges):
        self.vocab = vocab  # piece -> id
        self.merges = merges  # list of (a, b)
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.cache = {}

    @classmethod
    def train(cls, texts, vocab_size):
        """Learn merges until the vocabulary (specials + 256 bytes + characters + merges) has vocab_size pieces."""
        words = Counter(c for t in texts for c in chunks(t))
        chars = Counter()
        for w, n in words.items():
            for ch in w:
                chars[ch] += n
        pieces = SPECIALS + [f'<0x{b:02X}>' for b in range(256)]
        pieces += sorted(chars, key=lambda ch: (-chars[ch], ch))
        splits = {w: list(w) for w in words}
        merges = []
        while len(pieces) < vocab_size:
            pairs = Counter()
            for w, n in words.items():
                s = splits[w]
                for a, b in zip(s, s[1:]):
                    pairs[a, b] += n
            if not pairs:
                break
            best = min(pairs, key=lambda p: (-pairs[p], p))
            merges.append(best)
            pieces.append(best[0] + best[1])
            for w, s in splits.items():
                splits[w] = _merge(s, best)
        return cls({p: i for i, p in enumerate(pieces)}, merges)

    def _encode_chunk(self, chunk):
        if chunk not in self.cache:
            s = list(chunk)
            while len(s) > 1:
                ranked = [(self.ranks.get(pair, len(self.ranks)), pair) for pair in zip(s, s[1:])]
                rank, pair = min(ranked)
                if rank == len(self.ranks):
                    break
                s = _merge(s, pair)
            ids = []
            for piece in s:
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                else:
                    ids += [self.vocab[f'<0x{b:02X}>'] for b in piece.encode('utf-8')]
            self.cache[chunk] = ids
        return self.cache[chunk]

    def encode(self, text, bos=True):
        ids = [BOS_ID] if bos else []
        for c in chunks(text):
            ids += self._encode_chunk(c)
        return ids

    def decode(self, ids):
        inv = {i: p for p, i in self.vocab.items()}
        out = bytearray()
        for i in ids:
            if i < len(SPECIALS):
                continue
            p = inv[i]
            if re.fullmatch(r'<0x[0-9A-F]{2}>', p):
                out.append(int(p[3:5], 16))
            else:
                out += p.replace(SPACE, ' ').encode('utf-8')
        text = out.decode('utf-8', errors='replace')
        return text[1:] if text.startswith(' ') else text

    def tokenizer_json(self):
        """Hugging Face tokenizer.json (same shape as the Llama 2 / llama2.c byte-fallback BPE)."""
        return {
            'version': '1.0',
            'truncation': None,
            'padding': None,
            'added_tokens': [{'id': i, 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False,
                              'normalized': False, 'special': True} for i, t in enumerate(SPECIALS)],
            'normalizer': {'type': 'Sequence', 'normalizers': [
                {'type': 'Prepend', 'prepend': SPACE},
                {'type': 'Replace', 'pattern': {'String': ' '}, 'content': SPACE}]},
            'pre_tokenizer': None,
            'post_processor': {
                'type': 'TemplateProcessing',
                'single': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
                'pair': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                         {'SpecialToken': {'id': '<s>', 'type_id': 1}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
                'special_tokens': {'<s>': {'id': '<s>', 'ids': [BOS_ID], 'tokens': ['<s>']}}},
            'decoder': {'type': 'Sequence', 'decoders': [
                {'type': 'Replace', 'pattern': {'String': SPACE}, 'content': ' '},
                {'type': 'ByteFallback'}, {'type': 'Fuse'},
                {'type': 'Strip', 'content': ' ', 'start': 1, 'stop': 0}]},
            'model': {'type': 'BPE', 'dropout': None, 'unk_token': '<unk>', 'continuing_subword_prefix': None,
                      'end_of_word_suffix': None, 'fuse_unk': True, 'byte_fallback': True, 'ignore_merges': False,
                      'vocab': self.vocab, 'merges': [list(m) for m in self.merges]},
        }

    def save(self, path):
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(self.tokenizer_json(), f, ensure_ascii=False, indent=1)

    @classmethod
    def load(cls, path):
        with open(path, encoding='utf-8') as f:
            model = json.load(f)['model']
        return cls(model['vocab'], [tuple(m) for m in model['merges']])


def _merge(s, pair):
    out, i = [], 0
    while i < len(s):
        if i + 1 < len(s) and (s[i], s[i + 1]) == pair:
            out.append(s[i] + s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return out
