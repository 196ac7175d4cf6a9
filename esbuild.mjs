// Builds one bundle per process: extension host, sidecar, CLI, webview.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {esbuild.BuildOptions[]} */
const builds = [
  {
    entryPoints: { extension: 'src/extension.ts' },
    platform: 'node', format: 'cjs', target: 'node20',
    external: ['vscode'],
  },
  {
    entryPoints: { sidecar: 'native/sidecar.ts', cli: 'native/cli.ts', 'probe-worker': 'native/analyses/probe/fitWorker.ts' },
    platform: 'node', format: 'cjs', target: 'node20',
    external: ['onnxruntime-node'],
  },
  {
    entryPoints: { webview: 'webview/main.ts' },
    platform: 'browser', format: 'iife', target: 'es2022',
    loader: { '.css': 'text' },
  },
];

const common = { bundle: true, outdir: 'out', sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };

if (watch) {
  for (const b of builds) (await esbuild.context({ ...common, ...b })).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build({ ...common, ...b })));
}
