/**
 * The committed contract files must match the code: the SDL emitted from the type-graphql classes,
 * and the typed documents generated from it for the tests.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { buildSchema, getNullableType, isObjectType } from 'graphql';
import { printCreditsSchema, SCHEMA_FILE } from '../src/graphql/print-schema';
import { VALUE_TYPES } from './support/value-types';

const GENERATE_WITHOUT_SAVING = `
const { generate, loadCodegenConfig } = require('@graphql-codegen/cli');
loadCodegenConfig({ configFilePath: 'codegen.yml' })
  .then(({ config }) => generate({ ...config, silent: true, cwd: process.cwd() }, false))
  .then((outputs) => process.stdout.write(JSON.stringify(outputs)));
`;

describe('committed schema artifacts', () => {
  it('schema/schema.graphql is what the code builds (run npm run schema:emit)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printCreditsSchema());
  });

  it('test/generated/graphql.ts is what codegen produces (run npm run codegen)', () => {
    // Codegen loads ES modules that jest's module system cannot; it runs in a plain node process.
    const outputs = JSON.parse(
      execFileSync(process.execPath, ['-e', GENERATE_WITHOUT_SAVING], { encoding: 'utf8' }),
    ) as {
      filename: string;
      content: string;
    }[];
    expect(outputs).toHaveLength(1);
    for (const output of outputs) expect(readFileSync(output.filename, 'utf8')).toBe(output.content);
  });

  it('names every type and operation of the contract', () => {
    const sdl = printCreditsSchema();
    for (const name of [
      'WorkspaceCredits',
      'CreditBucket',
      'CreditGrant',
      'Drawdown',
      'CreditConsumption',
      'CreditEstimate',
      'Money',
      'Plan',
      'CreditPackage',
      'CreditRate',
    ]) {
      expect(sdl).toContain(`type ${name} {`);
    }
    for (const field of [
      'workspaceCredits(workspaceId: ID!): WorkspaceCredits!',
      'consumeCredits(input: ConsumeCreditsInput!): CreditConsumption!',
      'estimateCredits(action: CreditAction!, units: Int! = 1, workspaceId: ID!): CreditEstimate!',
    ]) {
      expect(sdl).toContain(field);
    }
  });

  it('gives every object type but the value types an id: ID!, which client caches normalize by', () => {
    const schema = buildSchema(readFileSync(SCHEMA_FILE, 'utf8'));
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
    const withoutId = Object.values(schema.getTypeMap())
      .filter(isObjectType)
      .filter((type) => !type.name.startsWith('__') && !roots.includes(type))
      .filter((type) => {
        const id = type.getFields().id;
        return !id || id.type === getNullableType(id.type) || String(getNullableType(id.type)) !== 'ID';
      })
      .map((type) => type.name);
    expect(withoutId.sort()).toEqual([...VALUE_TYPES]);
  });
});
