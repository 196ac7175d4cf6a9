"""Paths, seeds and sizes shared by the demo-model build steps (prepare, train, export)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
MODEL_DIR = os.path.join(ROOT, 'demo', 'model')
DATA_DIR = os.path.join(ROOT, 'demo', 'data')
WORKSPACE_DIR = os.path.join(ROOT, 'demo', 'workspace')
WORK_DIR = os.path.join(HERE, 'work')  # git-ignored: checkpoint, logs, metrics

# Disjoint generator seeds per split.
SEEDS = {'train': 1, 'heldout': 2, 'tasks': 3, 'probe_gender': 4, 'probe_sentiment': 5, 'workspace': 6,
         'init': 7}
VOCAB_SIZE = 1024
TOKENIZER_STORIES = 5000
MAX_POSITIONS = 256
