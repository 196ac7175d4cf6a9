// The Model view's content as plain data, built from ModelInfo. Pure (no `vscode`).
import type { ModelInfo } from '../../protocol';

export interface InfoNode {
  label: string;
  description?: string;
  tooltip?: string;
  /** Codicon name. */
  icon?: string;
  /** Greyed out (unavailable tap, stopped sidecar). */
  disabled?: boolean;
  expanded?: boolean;
  children?: InfoNode[];
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

/** Model, provider, shape, blocks and taps. `stopped`: the sidecar lost the model (shown greyed). */
export function modelTree(m: ModelInfo, stopped: boolean): InfoNode[] {
  const lm = m.layerMap;
  const blocks: InfoNode[] = lm.blocks.map((b) => {
    const parts = [b.attnOut ? 'attn' : undefined, b.mlpOut ? 'MLP' : undefined].filter(Boolean).join(' + ');
    return {
      label: `block ${b.index}`,
      description: `${parts || 'fused'}${b.sublayersSeparable ? '' : ' (not separable)'}`,
      tooltip: [`resid in: ${b.residIn}`, b.residMid && `resid mid: ${b.residMid}`, `resid out: ${b.residOut}`, b.attnOut && `attn out: ${b.attnOut}`, b.mlpOut && `mlp out: ${b.mlpOut}`]
        .filter(Boolean)
        .join('\n'),
      icon: 'symbol-class',
    };
  });
  const available = lm.taps.filter((t) => t.available).length;
  const taps: InfoNode[] = lm.taps.map((t) => ({
    label: t.name,
    description: t.available ? undefined : (t.reason ?? 'unavailable'),
    tooltip: t.available ? `${t.name}: readable` : `${t.name}: ${t.reason ?? 'unavailable in this graph form'}`,
    icon: t.available ? 'pass' : 'circle-slash',
    disabled: !t.available,
  }));
  const heads = lm.numHeads ? `${lm.numHeads} heads${lm.numKvHeads && lm.numKvHeads !== lm.numHeads ? ` (${lm.numKvHeads} KV)` : ''}` : undefined;
  return [
    {
      label: m.name,
      description: stopped ? 'sidecar stopped — reloads on next request' : formatBytes(m.sizeBytes),
      tooltip: `${m.path}\n${m.onnxFile}`,
      icon: 'package',
      disabled: stopped,
    },
    {
      label: 'Execution provider',
      description: m.provider,
      tooltip: m.providerNote ?? `onnxruntime ${m.provider} execution provider`,
      icon: m.providerNote ? 'warning' : 'server-process',
    },
    {
      label: 'Architecture',
      description: [m.config.architecture ?? m.config.modelType, lm.graphForm].filter(Boolean).join(' · '),
      icon: 'circuit-board',
      children: [
        { label: 'Layers', description: String(lm.numLayers) },
        { label: 'Hidden size', description: String(lm.hiddenSize) },
        { label: 'Vocabulary', description: String(lm.vocabSize) },
        ...(heads ? [{ label: 'Attention', description: `${heads}${lm.headDim ? `, head dim ${lm.headDim}` : ''}` }] : []),
        { label: 'Weights', description: lm.dtype },
        { label: 'KV cache', description: lm.hasKvCache ? 'yes' : 'no' },
        ...(m.contextLength ? [{ label: 'Context length', description: String(m.contextLength) }] : []),
        { label: 'Chat template', description: m.config.hasChatTemplate ? 'yes' : 'no' },
      ],
    },
    { label: 'Blocks', description: String(lm.blocks.length), icon: 'layers', expanded: true, children: blocks },
    { label: 'Taps', description: `${available}/${lm.taps.length} available`, icon: 'debug-breakpoint-log', children: taps },
  ];
}
