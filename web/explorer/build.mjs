/**
 * Bundles the GraphQL explorer (explorer.js: GraphiQL, React and Monaco's workers, all from
 * node_modules) into dist/explorer, which the server serves in development. No CDN at run time:
 * everything the page loads comes from this server. `npm start` runs this; it does nothing when
 * the bundle is newer than its inputs (this folder and package-lock.json).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outdir = join(root, 'dist', 'explorer');
const outputs = ['explorer.js', 'explorer.css', 'editor.worker.js', 'json.worker.js', 'graphql.worker.js'].map((file) =>
  join(outdir, file),
);
const inputs = [join(here, 'explorer.js'), join(here, 'build.mjs'), join(root, 'package-lock.json')];

const newest = (files) => Math.max(...files.map((file) => statSync(file).mtimeMs));
const oldest = (files) => Math.min(...files.map((file) => statSync(file).mtimeMs));
if (outputs.every((file) => existsSync(file)) && oldest(outputs) > newest(inputs)) process.exit(0);

const common = {
  bundle: true,
  minify: true,
  legalComments: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  outdir,
};
const started = performance.now();
await Promise.all([
  build({
    ...common,
    entryPoints: { explorer: join(here, 'explorer.js') },
    format: 'esm',
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
  }),
  build({
    ...common,
    entryPoints: {
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    },
    format: 'iife',
  }),
]);
console.error(`built the GraphQL explorer in ${((performance.now() - started) / 1000).toFixed(1)} s`);
