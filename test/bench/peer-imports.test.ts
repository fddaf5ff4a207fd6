/**
 * The Emmett peer of `npm run bench` (bench/peers/emmett/run.mjs) loads our decider from the build
 * by path and name, outside the type checker and outside `npm test` (it needs its own install). A
 * module that moves must not break it silently: every `const { names } = loadBuilt('path')` it
 * makes names a file of src/ that exports each name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');
const peer = readFileSync(join(root, 'bench/peers/emmett/run.mjs'), 'utf8');
const loads = [...peer.matchAll(/const \{ ([^}]+) \} = loadBuilt\('([^']+)\.js'\);/g)].map(([, names, path]) => ({
  path: path as string,
  names: (names as string).split(',').map((name) => name.trim()),
}));

it('finds what the peer loads from the build', () => {
  expect(loads.map((load) => load.path)).toEqual(
    expect.arrayContaining(['src/domain/decide', 'src/domain/evolve', 'src/domain/state']),
  );
});

it.each(loads)('$path exports what the peer takes from it: $names', ({ path, names }) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the path is data, as it is for the peer
  const module = require(join(root, path)) as Record<string, unknown>;
  for (const name of names) expect(typeof module[name]).toBe('function');
});
