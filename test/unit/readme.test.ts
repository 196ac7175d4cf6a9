// The README stays true to the manifest: it names every command a user can run and every setting.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
/** The README with line breaks folded, so a wrapped title still counts. */
const prose = readme.replace(/\s+/g, ' ');
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

test('README starts with the two commands', () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  assert.deepEqual(firstBlock.trim().split('\n').map((l) => l.split('#')[0].trim()), ['npm run demo', 'npm test']);
  assert.ok(manifest.scripts.demo && manifest.scripts.test, 'package.json defines both scripts');
});

test('README names every palette command', () => {
  const hidden = new Set(
    (manifest.contributes.menus?.commandPalette ?? []).filter((m: { when?: string }) => m.when === 'false').map((m: { command: string }) => m.command),
  );
  const titles = manifest.contributes.commands
    .filter((c: { command: string }) => !hidden.has(c.command))
    .map((c: { title: string }) => c.title);
  assert.deepEqual(titles.filter((t: string) => !prose.includes(t)), []);
});

test('README documents every setting', () => {
  const keys = Object.keys(manifest.contributes.configuration.properties);
  assert.deepEqual(keys.filter((k) => !readme.includes(`\`${k}\``)), []);
});
