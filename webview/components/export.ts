// Export helpers for views: CSV (RFC 4180) and JSON text, data URLs to base64; files are saved by
// the host (save dialog) through ViewHost.exportFile.
import type { ViewHost } from '../api';

export type CsvCell = string | number | boolean | null | undefined;

/** RFC 4180 CSV: comma-separated, CRLF line ends, fields quoted when they hold a comma, quote or line break. */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function csvField(cell: CsvCell): string {
  if (cell === null || cell === undefined) return '';
  const s = String(cell);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The base64 payload of a data: URL. */
export function dataUrlToBase64(url: string): string {
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma < 0 || !url.slice(0, comma).endsWith(';base64')) throw new Error('not a base64 data URL');
  return url.slice(comma + 1);
}

export function exportCsv(host: Pick<ViewHost, 'exportFile'>, rows: readonly (readonly CsvCell[])[], name: string): void {
  host.exportFile('csv', toCsv(rows), 'utf8', `${name}.csv`);
}

export function exportJson(host: Pick<ViewHost, 'exportFile'>, value: unknown, name: string): void {
  host.exportFile('json', JSON.stringify(value, null, 2), 'utf8', `${name}.json`);
}
