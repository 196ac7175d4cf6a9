#!/usr/bin/env node
// The `layerlens` command line: inspect a model's layer map, or run a prompt and print the next-token top-k.
//   layerlens inspect <model> [--json] [--provider auto|cpu|webgpu|cuda] [--variant model_fp16]
//   layerlens run <model> "<prompt>" [--json] [--top 5] [--provider …] [--variant …]
// Exit status: 0 done, 1 the model or prompt was refused (the message names the error code), 2 bad usage.
import { parseArgs } from 'node:util';
import type { LayerMap, ModelInfo, TopToken } from '../protocol';
import { inspectModel, loadModel, type LoadedModel, type LoadOptions } from './model/load';
import { ModelError } from './onnx/errors';

const USAGE = `usage:
  layerlens inspect <model> [--json] [--provider auto|cpu|webgpu|cuda] [--variant <name>]
  layerlens run <model> "<prompt>" [--json] [--top <k>] [--provider …] [--variant <name>]
<model> is a model folder (config.json, tokenizer.json, onnx/model.onnx) or an .onnx file with a tokenizer beside it.`;

const PROVIDERS = ['auto', 'cpu', 'webgpu', 'cuda'] as const;

class UsageError extends Error {}

interface Io {
  out(text: string): void;
  err(text: string): void;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}

/** Human-readable layer map. */
export function formatInspect(info: ModelInfo): string {
  const m: LayerMap = info.layerMap;
  const heads = m.numHeads ? `   heads ${m.numHeads}${m.numKvHeads ? ` (kv ${m.numKvHeads}${m.headDim ? `, head dim ${m.headDim}` : ''})` : ''}` : '';
  const lines = [
    `${info.name}  ${info.onnxFile}  ${mib(info.sizeBytes)}`,
    `graph form ${m.graphForm}   provider ${info.provider}${info.providerNote ? ` (${info.providerNote})` : ''}`,
    `${m.numLayers} layers   hidden ${m.hiddenSize}   vocab ${m.vocabSize}${heads}   dtype ${m.dtype}   input_ids ${m.inputIdsType}   kv cache ${m.hasKvCache ? 'yes' : 'no'}`,
    `context ${info.contextLength ?? 'unknown'} tokens   architecture ${info.config.architecture ?? info.config.modelType ?? 'unknown'}   chat template ${info.config.hasChatTemplate ? 'yes' : 'no'}`,
    '',
    `embed       ${m.embedOutput}`,
  ];
  for (const b of m.blocks) {
    lines.push(`block ${String(b.index).padEnd(5)} in  ${b.residIn}`);
    if (b.residMid) lines.push(`            mid ${b.residMid}`);
    lines.push(`            out ${b.residOut}${b.sublayersSeparable ? '' : '   (attention and MLP not separable)'}`);
  }
  lines.push(`final norm  ${m.finalNormOutput}`, `logits      ${m.logitsOutput}`, '');
  const available = m.taps.filter((t) => t.available).map((t) => t.name);
  lines.push(`taps available (${available.length}): ${available.join(', ')}`);
  const missing = m.taps.filter((t) => !t.available);
  lines.push(`taps unavailable (${missing.length}):${missing.length ? '' : ' none'}`);
  for (const t of missing) lines.push(`  ${t.name}: ${t.reason ?? 'not in this graph'}`);
  return lines.join('\n');
}

/** Human-readable next-token table. */
export function formatRun(prompt: string, ids: number[], next: TopToken[]): string {
  const lines = [`prompt ${JSON.stringify(prompt)} -> ${ids.length} tokens [${ids.join(', ')}]`, 'next token:'];
  for (const t of next) lines.push(`  ${String(t.id).padStart(7)}  ${(t.prob * 100).toPrecision(3).padStart(6)}%  ${JSON.stringify(t.text)}`);
  return lines.join('\n');
}

async function withModel<T>(path: string, opts: LoadOptions, fn: (m: LoadedModel) => Promise<T>): Promise<T> {
  const model = await loadModel(path, opts);
  try {
    return await fn(model);
  } finally {
    await model.dispose();
  }
}

/** Run the CLI on `argv` (without node and script); returns the exit status. */
export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        provider: { type: 'string', default: 'auto' },
        variant: { type: 'string' },
        top: { type: 'string', default: '5' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const [command, model, ...rest] = positionals;
    if (!PROVIDERS.includes(values.provider as (typeof PROVIDERS)[number])) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
    const opts: LoadOptions = { id: 'cli', provider: values.provider as LoadOptions['provider'], variant: values.variant };
    if (command === 'inspect' && model && rest.length === 0) {
      const info = await inspectModel(model, opts);
      io.out(values.json ? JSON.stringify(info, null, 2) : formatInspect(info));
      return 0;
    }
    if (command === 'run' && model && rest.length === 1) {
      const top = Number(values.top);
      if (!Number.isInteger(top) || top < 1) throw new UsageError('--top must be a positive integer');
      const prompt = rest[0];
      const result = await withModel(model, opts, async (m) => {
        const { ids, tokens } = m.encode({ text: prompt });
        const next = m.topTokens(await m.nextLogits(ids), Math.min(top, m.info.layerMap.vocabSize));
        return { model: m.info.name, provider: m.info.provider, tokens, next };
      });
      io.out(values.json ? JSON.stringify(result, null, 2) : formatRun(prompt, result.tokens.map((t) => t.id), result.next));
      return 0;
    }
    throw new UsageError(command ? `cannot parse: ${argv.join(' ')}` : 'no command given');
  } catch (e) {
    const code = (e as { code?: unknown } | undefined)?.code;
    if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.err(`layerlens: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof ModelError) {
      io.err(`layerlens: ${e.message} [${e.code}]`);
      return 1;
    }
    io.err(`layerlens: internal error: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) }).then((code) => process.exit(code));
}
