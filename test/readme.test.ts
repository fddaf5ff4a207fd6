/**
 * The README's configuration table is the documentation of the environment: every variable the
 * server reads must be in it, and every script in package.json must be in the Scripts table.
 */
import { readFileSync } from 'node:fs';

const readme = readFileSync('README.md', 'utf8');

it('lists every environment variable the configuration reads', () => {
  const config = readFileSync('src/server/config.ts', 'utf8');
  const start = config.indexOf('const settings = {');
  const block = config.slice(start, config.indexOf('\n  };', start));
  const variables = [...block.matchAll(/^\s{4}([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1]);
  expect(variables.length).toBeGreaterThan(10);
  for (const variable of variables) expect(readme).toContain(`| \`${variable}\``);
});

it('lists every npm script a user runs', () => {
  const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  for (const name of Object.keys(scripts).filter((script) => !['build', 'format'].includes(script))) {
    expect(readme).toMatch(new RegExp(`npm (run )?${name}\\b`));
  }
});
