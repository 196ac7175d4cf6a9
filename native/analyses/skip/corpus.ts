// Corpus input for sweeps: JSONL (one {"text": …} object or one JSON string per line) or plain text
// (paragraphs separated by blank lines). Bad lines are reported with their line number.

/** Limits so a sweep stays interactive. */
export const MAX_CORPUS_TEXTS = 64;

export class CorpusError extends Error {}

/** Texts of a corpus, in order; throws CorpusError with a readable message on bad input. */
export function parseCorpus(content: string, format: 'jsonl' | 'text'): string[] {
  const texts: string[] = [];
  if (format === 'text') {
    for (const para of content.split(/\r?\n\s*\r?\n/)) if (para.trim()) texts.push(para.trim());
  } else {
    const lines = content.split(/\r?\n/);
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new CorpusError(`line ${i + 1}: not valid JSON`);
      }
      const text = typeof value === 'string' ? value : (value as { text?: unknown })?.text;
      if (typeof text !== 'string') throw new CorpusError(`line ${i + 1}: expected a JSON string or an object with a "text" string`);
      if (text.length) texts.push(text);
    });
  }
  if (texts.length === 0) throw new CorpusError('the corpus has no texts');
  if (texts.length > MAX_CORPUS_TEXTS) throw new CorpusError(`the corpus has ${texts.length} texts; at most ${MAX_CORPUS_TEXTS} are swept`);
  return texts;
}
