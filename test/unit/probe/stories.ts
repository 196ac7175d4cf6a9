// Shared helpers for the probe tests on the real stories260K model: loading, and a small labelled
// task generated here (the gender of the story's subject, read at a final "Then" token).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type LoadedModel } from '../../../native/model/load';

export const STORIES = join(__dirname, '../../../../shared/models/stories260K');

export function loadStories(): Promise<LoadedModel> {
  return loadModel(STORIES, { id: 'stories', provider: 'cpu' });
}

const GIRLS = ['Lily', 'Sue', 'Mia', 'Anna', 'Amy', 'Sara', 'Lucy', 'Jane', 'Emma', 'Kate'];
const BOYS = ['Tom', 'Ben', 'Tim', 'Max', 'Sam', 'Jack', 'Bob', 'Joe', 'Leo', 'Dan'];
const TEMPLATES = ['{n} went to the park. Then', '{n} saw a big dog. Then', '{n} was very happy. Then', 'One day, {n} found a ball. Then'];

/** 80 rows {text, label, group}: the group is the name, so grouped CV never sees a name in train and test. */
export function genderRows(): { text: string; label: string; group: string }[] {
  const rows: { text: string; label: string; group: string }[] = [];
  for (const t of TEMPLATES) {
    for (const n of GIRLS) rows.push({ text: t.replace('{n}', n), label: 'she', group: n });
    for (const n of BOYS) rows.push({ text: t.replace('{n}', n), label: 'he', group: n });
  }
  return rows;
}

/** Writes the rows as CSV (texts contain commas: quoted) and returns the path. */
export function writeGenderCsv(dir: string, rows = genderRows()): string {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const path = join(dir, 'gender.csv');
  writeFileSync(path, ['text,label,group', ...rows.map((r) => [q(r.text), r.label, r.group].join(','))].join('\r\n') + '\r\n');
  return path;
}
