// Tiny DOM helpers for panel views (no framework; keyboard-reachable native controls).
import '@vscode-elements/elements/dist/vscode-button/index.js';

type Attrs = Record<string, string | number | boolean | undefined>;

/** An element with attributes (false/undefined omitted) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') e.className = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  e.append(...children);
  return e;
}

/** A VS Code styled button. */
export function button(label: string, onClick: () => void, opts: { secondary?: boolean; title?: string } = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  if (opts.secondary) b.setAttribute('secondary', '');
  if (opts.title) {
    b.setAttribute('title', opts.title);
    b.setAttribute('aria-label', opts.title);
  }
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

/** A native <select> with a label. */
export function select<T extends string>(label: string, options: { value: T; label: string }[], value: T, onChange: (v: T) => void): HTMLLabelElement {
  const s = el('select');
  for (const o of options) s.append(el('option', { value: o.value, selected: o.value === value }, o.label));
  s.addEventListener('change', () => onChange(s.value as T));
  return el('label', { class: 'll-skip-field' }, `${label} `, s);
}

/** A labelled number input. */
export function numberInput(label: string, value: number, opts: { min?: number; max?: number; step?: number }, onChange: (v: number) => void): HTMLLabelElement {
  const i = el('input', { type: 'number', value, min: opts.min, max: opts.max, step: opts.step ?? 1 });
  i.addEventListener('change', () => {
    const v = Number(i.value);
    if (Number.isFinite(v)) onChange(v);
  });
  return el('label', { class: 'll-skip-field' }, `${label} `, i);
}

/** A table from a header row and rows. */
export function table(caption: string, header: string[], rows: (string | number)[][]): HTMLTableElement {
  const t = el('table', { class: 'll-skip-table' }, el('caption', {}, caption));
  t.append(el('thead', {}, el('tr', {}, ...header.map((h) => el('th', { scope: 'col' }, h)))));
  const body = el('tbody');
  for (const r of rows) body.append(el('tr', {}, ...r.map((c) => el('td', {}, typeof c === 'number' ? fmt(c) : c))));
  t.append(body);
  return t;
}

/** Numbers for display: 4 significant digits. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1000 ? x.toFixed(0) : x.toPrecision(4);
}
