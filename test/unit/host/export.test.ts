// Webview export helpers: CSV checked against an independent parser (csv-parse), data URLs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { dataUrlToBase64, toCsv } from '../../../webview/components/export';

describe('toCsv', () => {
  it('round-trips awkward cells through csv-parse', () => {
    const rows = [
      ['layer', 'token', 'top1', 'prob'],
      [0, ' Once', 'a "quoted" word', 0.125],
      [1, 'comma, inside', 'line\nbreak', 1e-7],
      [2, '', null, undefined],
      [3, 'crlf\r\nhere', 'ünïcödé 🙂', -0],
    ];
    const csv = toCsv(rows);
    const parsed = parse(csv, { relax_column_count: false }) as string[][];
    assert.deepEqual(
      parsed,
      rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c)))),
    );
    assert.ok(csv.endsWith('\r\n'));
  });
});

describe('dataUrlToBase64', () => {
  it('returns the payload of a base64 data URL and rejects others', () => {
    const payload = Buffer.from('PNG bytes').toString('base64');
    assert.equal(dataUrlToBase64(`data:image/png;base64,${payload}`), payload);
    assert.throws(() => dataUrlToBase64('data:image/svg+xml;charset=utf-8,%3Csvg'), /not a base64 data URL/);
    assert.throws(() => dataUrlToBase64('https://x/y.png'), /not a base64 data URL/);
  });
});
