/**
 * The directory holding package.json, whether the code runs from src/ (ts-jest) or from dist/
 * (built): files that ship beside the code (the schema, built assets) are found from it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function projectRoot(from = __dirname): string {
  return existsSync(join(from, 'package.json')) ? from : projectRoot(dirname(from));
}
