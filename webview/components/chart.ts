// An echarts wrapper for panel views: theme from VS Code's CSS variables (rebuilt when the theme
// changes), resizing with its container, keyboard-reachable PNG / SVG export.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';
import type { ViewHost } from '../api';
import { onThemeChange } from '../shell/theme';
import { dataUrlToBase64 } from './export';

echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  ScatterChart,
  AriaComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
  SVGRenderer,
]);

export type ChartOption = echarts.EChartsCoreOption;
export type { echarts };

export interface ChartOptions {
  /** Accessible name of the chart. */
  label: string;
  /** CSS height of the chart (default 320px). */
  height?: string;
  /** File name (without extension) for exports; when set, PNG and SVG export buttons are shown. */
  exportName?: string;
}

type CssVar = ViewHost['cssVar'];

/** An echarts theme object from VS Code's CSS variables. */
export function chartTheme(cssVar: CssVar): Record<string, unknown> {
  const v = (name: string, fallback: string) => cssVar(name) || fallback;
  const fg = v('--vscode-foreground', '#cccccc');
  const muted = v('--vscode-descriptionForeground', fg);
  const border = v('--vscode-panel-border', v('--vscode-editorWidget-border', '#80808059'));
  const font = v('--vscode-font-family', 'sans-serif');
  const axis = {
    axisLine: { lineStyle: { color: border } },
    axisTick: { lineStyle: { color: border } },
    axisLabel: { color: muted },
    splitLine: { lineStyle: { color: [border] } },
    nameTextStyle: { color: muted },
  };
  return {
    color: ['blue', 'orange', 'green', 'purple', 'red', 'yellow'].map((c) => v(`--vscode-charts-${c}`, '#3794ff')),
    backgroundColor: 'transparent',
    textStyle: { color: fg, fontFamily: font },
    title: { textStyle: { color: fg }, subtextStyle: { color: muted } },
    legend: { textStyle: { color: fg } },
    tooltip: {
      backgroundColor: v('--vscode-editorHoverWidget-background', '#252526'),
      borderColor: v('--vscode-editorHoverWidget-border', border),
      textStyle: { color: v('--vscode-editorHoverWidget-foreground', fg), fontFamily: font },
    },
    // Heatmaps: low values fade into the editor background, high values in the theme's blue.
    visualMap: { textStyle: { color: fg }, color: [v('--vscode-charts-blue', '#3794ff'), v('--vscode-editor-background', '#ffffff')] },
    dataZoom: { textStyle: { color: muted }, borderColor: border },
    categoryAxis: axis,
    valueAxis: axis,
    logAxis: axis,
    timeAxis: axis,
  };
}

export class Chart {
  /** The element echarts draws into. */
  readonly el: HTMLDivElement;
  private chart: echarts.ECharts;
  private option: ChartOption | undefined;
  private readonly resize: ResizeObserver;
  private readonly stopThemeWatch: () => void;

  constructor(
    parent: HTMLElement,
    private readonly host: Pick<ViewHost, 'cssVar' | 'exportFile'>,
    private readonly opts: ChartOptions,
  ) {
    if (opts.exportName) parent.append(this.toolbar(opts.exportName));
    this.el = document.createElement('div');
    this.el.className = 'll-chart';
    this.el.style.height = opts.height ?? '320px';
    this.el.setAttribute('role', 'img');
    this.el.setAttribute('aria-label', opts.label);
    parent.append(this.el);
    this.chart = this.create();
    this.resize = new ResizeObserver(() => this.chart.resize());
    this.resize.observe(this.el);
    this.stopThemeWatch = onThemeChange(() => this.rebuild());
  }

  /** The echarts instance (for events such as 'mouseover' / 'click'); replaced on a theme change. */
  get instance(): echarts.ECharts {
    return this.chart;
  }

  /** Replaces the chart's option (notMerge). */
  setOption(option: ChartOption): void {
    this.option = option;
    this.chart.setOption({ aria: { enabled: true, label: { description: this.opts.label } }, ...option }, { notMerge: true });
  }

  /** Handlers to re-attach after a theme change rebuilds the instance. */
  onRebuild?: (chart: echarts.ECharts) => void;

  /** The chart as PNG (base64, 2x pixel ratio, on the editor background). */
  pngBase64(): string {
    return dataUrlToBase64(
      this.chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: this.host.cssVar('--vscode-editor-background') || '#ffffff' }),
    );
  }

  /** The chart as a standalone SVG document (rendered server-side style, no DOM needed). */
  svg(): string {
    const ssr = echarts.init(null, chartTheme(this.host.cssVar), {
      renderer: 'svg',
      ssr: true,
      width: this.el.clientWidth || 800,
      height: this.el.clientHeight || 320,
    });
    try {
      ssr.setOption({ ...(this.option ?? {}), animation: false, backgroundColor: this.host.cssVar('--vscode-editor-background') || '#ffffff' });
      return ssr.renderToSVGString();
    } finally {
      ssr.dispose();
    }
  }

  exportPng(name: string): void {
    this.host.exportFile('png', this.pngBase64(), 'base64', `${name}.png`);
  }

  exportSvg(name: string): void {
    this.host.exportFile('svg', this.svg(), 'utf8', `${name}.svg`);
  }

  dispose(): void {
    this.resize.disconnect();
    this.stopThemeWatch();
    this.chart.dispose();
  }

  private create(): echarts.ECharts {
    return echarts.init(this.el, chartTheme(this.host.cssVar), { renderer: 'canvas' });
  }

  /** Theme changed: echarts themes are fixed per instance, so build a new one with the same option. */
  private rebuild(): void {
    this.chart.dispose();
    this.chart = this.create();
    if (this.option) this.setOption(this.option);
    this.onRebuild?.(this.chart);
  }

  private toolbar(name: string): HTMLElement {
    const bar = document.createElement('div');
    bar.className = 'll-chart-toolbar';
    for (const [label, run] of [
      ['Export PNG', () => this.exportPng(name)],
      ['Export SVG', () => this.exportSvg(name)],
    ] as const) {
      const b = document.createElement('vscode-button');
      b.setAttribute('secondary', '');
      b.textContent = label;
      b.addEventListener('click', run);
      bar.append(b);
    }
    return bar;
  }
}
