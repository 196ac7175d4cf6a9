// Prompt discovery: whole prompt files, ```prompt fences in Markdown, JSONL lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findPrompts, promptAt, promptDocumentKind } from '../../../src/prompts/discovery';

/** Every prompt's [start, end) slice of the document must be its text (or, for JSONL, decode to it). */
function assertSlices(doc: string, prompts: ReturnType<typeof findPrompts>): void {
  for (const p of prompts) {
    const raw = doc.slice(p.start, p.end);
    if (p.source === 'jsonl') assert.equal(JSON.parse(`"${raw}"`), p.text);
    else assert.equal(raw, p.text);
  }
}

describe('promptDocumentKind', () => {
  it('classifies by file name, case-insensitively', () => {
    assert.equal(promptDocumentKind('/w/a.prompt.md'), 'promptFile');
    assert.equal(promptDocumentKind('C:\\w\\A.PROMPT.TXT'), 'promptFile');
    assert.equal(promptDocumentKind('/w/readme.md'), 'markdown');
    assert.equal(promptDocumentKind('/w/notes.markdown'), 'markdown');
    assert.equal(promptDocumentKind('/w/data.jsonl'), 'jsonl');
    assert.equal(promptDocumentKind('/w/data.json'), undefined);
    assert.equal(promptDocumentKind('/w/a.prompt.py'), undefined);
  });
});

describe('whole prompt files', () => {
  it('takes the whole text, trimmed, without YAML front matter', () => {
    const doc = '---\nmode: ask\ndescription: a story\n---\n\nOnce upon a time\nthere was\n\n';
    const prompts = findPrompts('/w/story.prompt.md', doc);
    assert.equal(prompts.length, 1);
    assert.equal(prompts[0].text, 'Once upon a time\nthere was');
    assert.equal(prompts[0].source, 'file');
    assertSlices(doc, prompts);
  });

  it('keeps --- in .prompt.txt files (no front matter there) and finds nothing in blank files', () => {
    const doc = '---\nnot front matter\n---\nrest';
    assert.equal(findPrompts('/w/a.prompt.txt', doc)[0].text, doc);
    assert.deepEqual(findPrompts('/w/a.prompt.md', '  \n\t\n'), []);
    assert.deepEqual(findPrompts('/w/a.prompt.md', '---\nx: 1\n---\n'), []);
  });

  it('handles CRLF front matter', () => {
    const doc = '---\r\nmode: ask\r\n---\r\nHello world\r\n';
    const [p] = findPrompts('/w/a.prompt.md', doc);
    assert.equal(p.text, 'Hello world');
    assertSlices(doc, [p]);
  });
});

describe('```prompt fences in Markdown', () => {
  const doc = [
    '# Notes', // 0
    '```prompt',
    'Once upon a time',
    'there was',
    '```',
    'Text between.',
    '```python',
    '```prompt', // inside a python fence: content, not a prompt
    'x = 1',
    '```',
    '~~~prompt temperature=0',
    'Tilde fence',
    '~~~',
    '````prompt',
    'Has ``` inside',
    '````',
    '```prompt',
    '```',
    '   ```prompt',
    'indented opener',
    '   ```',
  ].join('\n');

  it('finds each prompt fence and nothing inside other fences', () => {
    const prompts = findPrompts('/w/README.md', doc);
    assert.deepEqual(
      prompts.map((p) => p.text),
      ['Once upon a time\nthere was', 'Tilde fence', 'Has ``` inside', 'indented opener'],
    );
    assert.ok(prompts.every((p) => p.source === 'fence'));
    assertSlices(doc, prompts);
  });

  it('runs an unclosed fence to the end of the document', () => {
    const d = 'intro\n```prompt\nunfinished\nprompt\n';
    const [p] = findPrompts('/w/a.md', d);
    assert.equal(p.text, 'unfinished\nprompt\n');
    assertSlices(d, [p]);
  });

  it('handles CRLF line ends without a trailing \\r in the prompt', () => {
    const d = 'a\r\n```prompt\r\nline one\r\nline two\r\n```\r\nb\r\n';
    const [p] = findPrompts('/w/a.md', d);
    assert.equal(p.text, 'line one\r\nline two');
    assertSlices(d, [p]);
  });

  it('ignores a backtick fence whose info string holds a backtick, and `prompt` as a prefix of another word', () => {
    assert.deepEqual(findPrompts('/w/a.md', '```prompt `x`\nno\n```\n'), []);
    assert.deepEqual(findPrompts('/w/a.md', '```prompts\nno\n```\n'), []);
  });
});

describe('JSONL lines', () => {
  const lines = [
    '{"id": 1, "prompt": "Once upon a time"}',
    '',
    '{"text": "She said \\"hi\\"\\nand left \\u00e9", "label": 1}',
    'not json at all',
    '{"prompt": 42, "text": "fallback to text"}',
    '{"meta": {"prompt": "nested, not top-level"}, "id": 3}',
    '[{"prompt": "array line"}]',
    '{"prompt": "first", "prompt": "last wins"}',
    '{"prompt": "   "}',
    '{"a": [1, {"b": "}"}], "prompt": "after nested"}',
  ];
  const doc = lines.join('\n');

  it('reads "prompt", else "text", from top-level objects, decoded like JSON.parse', () => {
    const prompts = findPrompts('/w/data.jsonl', doc);
    const expected = lines
      .map((l) => {
        try {
          const v = JSON.parse(l);
          if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
          const t = typeof v.prompt === 'string' ? v.prompt : typeof v.text === 'string' ? v.text : undefined;
          return t && t.trim() ? t : undefined;
        } catch {
          return undefined;
        }
      })
      .filter((t): t is string => t !== undefined);
    assert.deepEqual(
      prompts.map((p) => p.text),
      expected,
    );
    assert.equal(expected.length, 5);
    assertSlices(doc, prompts);
  });

  it('points at the raw literal content on the right line', () => {
    const prompts = findPrompts('/w/data.jsonl', doc);
    const second = prompts[1];
    const lineStart = doc.indexOf(lines[2]);
    assert.ok(second.start > lineStart && second.end < lineStart + lines[2].length);
    assert.equal(doc[second.start - 1], '"');
    assert.equal(doc[second.end], '"');
  });
});

describe('promptAt', () => {
  it('finds the prompt around an offset, ends inclusive', () => {
    const doc = 'x\n```prompt\nabc\n```\n';
    const prompts = findPrompts('/w/a.md', doc);
    const p = prompts[0];
    assert.equal(promptAt(prompts, p.start), p);
    assert.equal(promptAt(prompts, p.end), p);
    assert.equal(promptAt(prompts, 0), undefined);
    assert.equal(promptAt(prompts, doc.length), undefined);
  });
});
