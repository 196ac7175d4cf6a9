// A reusable canvas heatmap: rows x columns of coloured cells with a short text each, row labels on
// the left and column labels along the bottom. Only the visible cells are drawn, so hundreds of
// columns x dozens of rows stay responsive. Theme-aware colours (VS Code CSS variables), hover / click
// callbacks, keyboard navigation (arrows, Home/End, Enter), a highlighted column (editor cursor), a
// pinned cell, and standalone SVG / PNG export of the whole grid.
import type { ViewHost } from '../api';
import { onThemeChange } from '../shell/theme';

export interface HeatmapData {
  rows: number;
  cols: number;
  rowLabels: string[];
  colLabels: string[];
  /** Colour value: [0, 1] for a sequential scale, [-1, 1] for a diverging one; NaN draws an empty cell. */
  value(row: number, col: number): number;
  /** Short text drawn in the cell (already display-ready). */
  text(row: number, col: number): string;
}

export interface Cell {
  row: number;
  col: number;
}

export interface HeatmapOptions {
  /** Accessible name. */
  label: string;
  scale?: 'sequential' | 'diverging';
  /** Draw row 0 at the bottom (layers: embedding at the bottom, output at the top). */
  bottomUp?: boolean;
  cellWidth?: number;
  cellHeight?: number;
  onHover?(cell: Cell | null, clientX: number, clientY: number): void;
  onClick?(cell: Cell): void;
  /** Text announced to screen readers for the focused cell. */
  describe?(cell: Cell): string;
}

/** RGB triple, 0..255. */
type Rgb = [number, number, number];

/** Theme colours the heatmap draws with. */
export interface HeatmapTheme {
  background: string;
  foreground: string;
  muted: string;
  border: string;
  focus: string;
  low: Rgb;
  high: Rgb;
  negative: Rgb;
  highContrast: boolean;
}

export function heatmapTheme(cssVar: ViewHost['cssVar'], highContrast: boolean): HeatmapTheme {
  const v = (name: string, fallback: string): string => cssVar(name) || fallback;
  const background = v('--vscode-editor-background', '#1e1e1e');
  return {
    background,
    foreground: v('--vscode-editor-foreground', '#cccccc'),
    muted: v('--vscode-descriptionForeground', '#9d9d9d'),
    border: v('--vscode-contrastBorder', v('--vscode-panel-border', '#80808059')),
    focus: v('--vscode-focusBorder', '#007fd4'),
    low: parseColor(background) ?? [30, 30, 30],
    high: parseColor(v('--vscode-charts-blue', '#3794ff')) ?? [55, 148, 255],
    negative: parseColor(v('--vscode-charts-red', '#f14c4c')) ?? [241, 76, 76],
    highContrast,
  };
}

/** Parses #rgb, #rrggbb(aa) and rgb()/rgba() colours. */
export function parseColor(s: string): Rgb | undefined {
  const t = s.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(t);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as Rgb;
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(t);
  if (m) return [0, 2, 4].map((i) => parseInt(m![1].slice(i, i + 2), 16)) as Rgb;
  m = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/i.exec(t);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  return undefined;
}

/** The fill colour of a value under a theme (NaN: the background). */
export function cellColor(value: number, theme: HeatmapTheme, scale: 'sequential' | 'diverging'): Rgb {
  if (!Number.isFinite(value)) return theme.low;
  const mix = (a: Rgb, b: Rgb, t: number): Rgb => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)) as Rgb;
  if (scale === 'diverging') {
    const t = Math.max(-1, Math.min(1, value));
    return t >= 0 ? mix(theme.low, theme.high, t) : mix(theme.low, theme.negative, -t);
  }
  return mix(theme.low, theme.high, Math.max(0, Math.min(1, value)));
}

/** Black or white text, whichever reads better on `bg` (WCAG relative luminance). */
export function textColorOn(bg: Rgb): string {
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const lum = 0.2126 * lin(bg[0]) + 0.7152 * lin(bg[1]) + 0.0722 * lin(bg[2]);
  return lum > 0.179 ? '#000000' : '#ffffff';
}

const rgb = (c: Rgb): string => `rgb(${c[0]},${c[1]},${c[2]})`;

const escapeXml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** Geometry of the full grid (labels included). */
interface Layout {
  left: number;
  bottom: number;
  cw: number;
  ch: number;
  width: number;
  height: number;
}

function layout(data: HeatmapData, cw: number, ch: number): Layout {
  const longestRow = Math.max(0, ...data.rowLabels.map((l) => l.length));
  const left = Math.min(160, 12 + longestRow * 7);
  const bottom = 22;
  return { left, bottom, cw, ch, width: left + data.cols * cw, height: data.rows * ch + bottom };
}

/** The whole grid as a standalone SVG document. */
export function heatmapSvg(data: HeatmapData, theme: HeatmapTheme, opts: Pick<HeatmapOptions, 'scale' | 'bottomUp' | 'cellWidth' | 'cellHeight' | 'label'>): string {
  const g = layout(data, opts.cellWidth ?? 56, opts.cellHeight ?? 20);
  const scale = opts.scale ?? 'sequential';
  const y = (r: number): number => (opts.bottomUp ? data.rows - 1 - r : r) * g.ch;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${g.width}" height="${g.height}" viewBox="0 0 ${g.width} ${g.height}" font-family="monospace" font-size="11">`,
    `<title>${escapeXml(opts.label)}</title>`,
    `<rect width="100%" height="100%" fill="${escapeXml(theme.background)}"/>`,
  ];
  for (let r = 0; r < data.rows; r++) {
    parts.push(`<text x="${g.left - 6}" y="${y(r) + g.ch / 2 + 4}" text-anchor="end" fill="${escapeXml(theme.foreground)}">${escapeXml(data.rowLabels[r])}</text>`);
    for (let c = 0; c < data.cols; c++) {
      const fill = cellColor(data.value(r, c), theme, scale);
      const x = g.left + c * g.cw;
      parts.push(`<rect x="${x}" y="${y(r)}" width="${g.cw}" height="${g.ch}" fill="${rgb(fill)}" stroke="${escapeXml(theme.background)}" stroke-width="0.5"/>`);
      const text = clip(data.text(r, c), g.cw);
      if (text) parts.push(`<text x="${x + g.cw / 2}" y="${y(r) + g.ch / 2 + 4}" text-anchor="middle" fill="${textColorOn(fill)}" xml:space="preserve">${escapeXml(text)}</text>`);
    }
  }
  for (let c = 0; c < data.cols; c++) {
    parts.push(`<text x="${g.left + c * g.cw + g.cw / 2}" y="${data.rows * g.ch + 15}" text-anchor="middle" fill="${escapeXml(theme.muted)}" xml:space="preserve">${escapeXml(clip(data.colLabels[c], g.cw))}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** Text clipped to what fits a cell of width `w` (about 7 px a monospace character). */
function clip(s: string, w: number): string {
  const n = Math.max(1, Math.floor((w - 6) / 7));
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export class Heatmap {
  readonly el: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly sizer: HTMLDivElement;
  private readonly live: HTMLDivElement;
  private data: HeatmapData | undefined;
  private theme: HeatmapTheme;
  private highlightCol: number | null = null;
  private pinned: Cell | null = null;
  private focusCell: Cell = { row: 0, col: 0 };
  private hover: Cell | null = null;
  private frame = 0;
  private readonly stopTheme: () => void;
  private readonly resize: ResizeObserver;

  constructor(
    parent: HTMLElement,
    private readonly host: Pick<ViewHost, 'cssVar'>,
    private readonly opts: HeatmapOptions,
  ) {
    this.theme = this.readTheme();
    this.el = document.createElement('div');
    this.el.className = 'll-heatmap';
    this.el.tabIndex = 0;
    this.el.setAttribute('role', 'grid');
    this.el.setAttribute('aria-label', `${opts.label}. Arrow keys move between cells, Enter pins a cell.`);
    this.el.style.cssText = 'position:relative;overflow:auto;max-height:70vh;outline-offset:-1px';
    this.sizer = document.createElement('div');
    this.canvas = document.createElement('canvas');
    this.canvas.style.cssText = 'position:sticky;left:0;top:0;display:block';
    this.live = document.createElement('div');
    this.live.setAttribute('role', 'status');
    this.live.setAttribute('aria-live', 'polite');
    this.live.style.cssText = 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)';
    this.sizer.append(this.canvas);
    this.el.append(this.sizer, this.live);
    parent.append(this.el);
    this.el.addEventListener('scroll', () => this.schedule());
    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mouseleave', () => this.setHover(null, 0, 0));
    this.canvas.addEventListener('click', (e) => {
      const cell = this.cellAt(e);
      if (cell) {
        this.focusCell = cell;
        this.opts.onClick?.(cell);
      }
    });
    this.el.addEventListener('keydown', (e) => this.onKey(e));
    this.el.addEventListener('focus', () => this.schedule());
    this.el.addEventListener('blur', () => this.schedule());
    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(this.el);
    this.stopTheme = onThemeChange(() => {
      this.theme = this.readTheme();
      this.schedule();
    });
  }

  setData(data: HeatmapData): void {
    this.data = data;
    this.focusCell = { row: Math.min(this.focusCell.row, data.rows - 1), col: Math.min(this.focusCell.col, data.cols - 1) };
    const g = this.geometry();
    this.sizer.style.width = `${g.width}px`;
    this.sizer.style.height = `${g.height}px`;
    this.schedule();
  }

  /** Highlight one column (the editor cursor's token), or none. */
  setHighlightCol(col: number | null): void {
    this.highlightCol = col;
    if (col !== null) this.scrollToCol(col);
    this.schedule();
  }

  setPinned(cell: Cell | null): void {
    this.pinned = cell;
    this.schedule();
  }

  svg(): string {
    if (!this.data) return '';
    return heatmapSvg(this.data, this.theme, this.opts);
  }

  /** The whole grid as PNG (base64), drawn at 2x on an offscreen canvas (clipped to 16k px). */
  pngBase64(): string {
    if (!this.data) return '';
    const g = this.geometry();
    const ratio = Math.max(0.25, Math.min(2, 16000 / Math.max(g.width, g.height)));
    const c = document.createElement('canvas');
    c.width = Math.ceil(g.width * ratio);
    c.height = Math.ceil(g.height * ratio);
    const ctx = c.getContext('2d')!;
    ctx.scale(ratio, ratio);
    this.draw(ctx, 0, 0, g.width, g.height, false);
    return c.toDataURL('image/png').split(',')[1];
  }

  dispose(): void {
    this.stopTheme();
    this.resize.disconnect();
    cancelAnimationFrame(this.frame);
    this.el.remove();
  }

  private readTheme(): HeatmapTheme {
    return heatmapTheme(this.host.cssVar, document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light'));
  }

  private geometry(): Layout {
    return layout(this.data ?? { rows: 0, cols: 0, rowLabels: [], colLabels: [], value: () => NaN, text: () => '' }, this.opts.cellWidth ?? 56, this.opts.cellHeight ?? 20);
  }

  private schedule(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.paint());
  }

  /** Draws the visible part of the grid into the viewport-sized canvas. */
  private paint(): void {
    if (!this.data) return;
    const g = this.geometry();
    const w = Math.min(this.el.clientWidth || g.width, g.width);
    const h = Math.min(this.el.clientHeight || g.height, g.height);
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(w * dpr));
    this.canvas.height = Math.max(1, Math.round(h * dpr));
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.draw(ctx, this.el.scrollLeft, this.el.scrollTop, w, h, true);
  }

  /** Draws the region at scroll offset (sx, sy) of size w x h; labels stay pinned to the viewport. */
  private draw(ctx: CanvasRenderingContext2D, sx: number, sy: number, w: number, h: number, interactive: boolean): void {
    const data = this.data!;
    const g = this.geometry();
    const t = this.theme;
    const scale = this.opts.scale ?? 'sequential';
    ctx.fillStyle = t.background;
    ctx.fillRect(0, 0, w, h);
    ctx.font = '11px var(--vscode-editor-font-family, monospace)';
    ctx.textBaseline = 'middle';
    const gridH = data.rows * g.ch;
    const c0 = Math.max(0, Math.floor((sx) / g.cw));
    const c1 = Math.min(data.cols, Math.ceil((sx + w - g.left) / g.cw) + 1);
    const r0 = Math.max(0, Math.floor(sy / g.ch));
    const r1 = Math.min(data.rows, Math.ceil((sy + h) / g.ch) + 1);
    const yOf = (r: number): number => (this.opts.bottomUp ? data.rows - 1 - r : r) * g.ch - sy;
    const xOf = (c: number): number => g.left + c * g.cw - sx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(g.left, 0, w - g.left, Math.min(h, gridH - sy));
    ctx.clip();
    ctx.textAlign = 'center';
    for (let vr = r0; vr < r1; vr++) {
      const r = this.opts.bottomUp ? data.rows - 1 - vr : vr;
      for (let c = c0; c < c1; c++) {
        const fill = cellColor(data.value(r, c), t, scale);
        const x = xOf(c);
        const y = yOf(r);
        ctx.fillStyle = rgb(fill);
        ctx.fillRect(x, y, g.cw - 1, g.ch - 1);
        const text = clip(data.text(r, c), g.cw);
        if (text) {
          ctx.fillStyle = textColorOn(fill);
          ctx.fillText(text, x + g.cw / 2, y + g.ch / 2);
        }
      }
    }
    if (interactive) {
      if (this.highlightCol !== null) this.outline(ctx, xOf(this.highlightCol), 0, g.cw, gridH - sy, t.foreground, 1);
      if (this.hover) this.outline(ctx, xOf(this.hover.col), yOf(this.hover.row), g.cw, g.ch, t.foreground, 1);
      if (this.pinned) this.outline(ctx, xOf(this.pinned.col), yOf(this.pinned.row), g.cw, g.ch, t.focus, 2.5);
      if (document.activeElement === this.el) this.outline(ctx, xOf(this.focusCell.col), yOf(this.focusCell.row), g.cw, g.ch, t.focus, 1.5, [3, 2]);
    }
    ctx.restore();
    // Row labels (left, fixed) and column labels (bottom, fixed).
    ctx.fillStyle = t.background;
    ctx.fillRect(0, 0, g.left, h);
    ctx.fillRect(0, Math.min(h, gridH - sy), w, g.bottom);
    ctx.textAlign = 'right';
    ctx.fillStyle = t.foreground;
    for (let r = 0; r < data.rows; r++) {
      const y = yOf(r);
      if (y + g.ch >= 0 && y <= h) ctx.fillText(data.rowLabels[r], g.left - 6, y + g.ch / 2);
    }
    ctx.textAlign = 'center';
    const labelY = Math.min(h - g.bottom, gridH - sy) + 11;
    for (let c = c0; c < c1; c++) {
      ctx.fillStyle = c === this.highlightCol ? t.foreground : t.muted;
      ctx.fillText(clip(data.colLabels[c], g.cw), xOf(c) + g.cw / 2, labelY);
    }
  }

  private outline(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, color: string, width: number, dash: number[] = []): void {
    ctx.save();
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.strokeRect(x + width / 2, y + width / 2, w - 1 - width, h - 1 - width);
    ctx.restore();
  }

  private cellAt(e: MouseEvent): Cell | null {
    if (!this.data) return null;
    const g = this.geometry();
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left + this.el.scrollLeft - g.left;
    const y = e.clientY - rect.top + this.el.scrollTop;
    if (x < 0 || y < 0 || y >= this.data.rows * g.ch) return null;
    const col = Math.floor(x / g.cw);
    const vr = Math.floor(y / g.ch);
    if (col >= this.data.cols) return null;
    return { row: this.opts.bottomUp ? this.data.rows - 1 - vr : vr, col };
  }

  private onMove(e: MouseEvent): void {
    this.setHover(this.cellAt(e), e.clientX, e.clientY);
  }

  private setHover(cell: Cell | null, x: number, y: number): void {
    const same = cell && this.hover && cell.row === this.hover.row && cell.col === this.hover.col;
    this.hover = cell;
    if (!same || !cell) this.schedule();
    this.opts.onHover?.(cell, x, y);
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.data) return;
    const up = this.opts.bottomUp ? 1 : -1;
    const f = { ...this.focusCell };
    switch (e.key) {
      case 'ArrowLeft': f.col--; break;
      case 'ArrowRight': f.col++; break;
      case 'ArrowUp': f.row += up; break;
      case 'ArrowDown': f.row -= up; break;
      case 'Home': f.col = 0; break;
      case 'End': f.col = this.data.cols - 1; break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        this.opts.onClick?.(this.focusCell);
        return;
      case 'Escape':
        this.setHover(null, 0, 0);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.focusCell = { row: Math.max(0, Math.min(this.data.rows - 1, f.row)), col: Math.max(0, Math.min(this.data.cols - 1, f.col)) };
    this.scrollToCol(this.focusCell.col);
    const rect = this.canvas.getBoundingClientRect();
    const g = this.geometry();
    const vr = this.opts.bottomUp ? this.data.rows - 1 - this.focusCell.row : this.focusCell.row;
    this.setHover(this.focusCell, rect.left + g.left + this.focusCell.col * g.cw - this.el.scrollLeft + g.cw, rect.top + vr * g.ch - this.el.scrollTop + g.ch);
    this.live.textContent = this.opts.describe?.(this.focusCell) ?? `${this.data.rowLabels[this.focusCell.row]}, ${this.data.colLabels[this.focusCell.col]}: ${this.data.text(this.focusCell.row, this.focusCell.col)}`;
  }

  private scrollToCol(col: number): void {
    const g = this.geometry();
    const x = g.left + col * g.cw;
    const view = this.el.clientWidth;
    if (x - this.el.scrollLeft < g.left) this.el.scrollLeft = x - g.left;
    else if (x + g.cw - this.el.scrollLeft > view) this.el.scrollLeft = x + g.cw - view;
  }
}

/** Token text with whitespace made visible (· space, ↵ newline, → tab); empty text shows ∅. */
export function visibleWhitespace(s: string): string {
  if (s === '') return '∅';
  return s.replace(/ /g, '·').replace(/\r?\n/g, '↵').replace(/\t/g, '→');
}
