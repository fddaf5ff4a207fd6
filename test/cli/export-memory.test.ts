/**
 * Exporting the ledger keeps memory flat: 100,000 entries need no more heap than 10,000.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/sqlite-event-store';
import type { NewEvent } from '../../src/eventstore/port';
import { workspaceStreamName } from '../../src/events/workspace-stream';
import { runCreditsCli } from '../support/cli';
import { newDataDir } from '../support/server-process';

const MB = 1024 * 1024;

/** A promotional grant and `spends` one-credit spends, appended in large batches. */
async function seed(file: string, workspaceId: string, spends: number): Promise<void> {
  const store = openSqliteEventStore({ file });
  const stream = workspaceStreamName(workspaceId);
  const at = new Date('2026-06-01T00:00:00Z').getTime();
  let revision = (
    await store.appendToStream(
      stream,
      [
        {
          type: 'CreditsGranted',
          data: {
            workspaceId,
            grantId: `grant-${workspaceId}`,
            idempotencyKey: 'g',
            credits: 10_000_000,
            reason: 'load',
            grantedBy: 'test',
            grantedAt: new Date(at).toISOString(),
          },
        },
      ],
      { expectedRevision: 'no_stream' },
    )
  ).nextExpectedRevision;
  for (let start = 0; start < spends; start += 2_000) {
    const batch: NewEvent[] = [];
    for (let i = start; i < Math.min(spends, start + 2_000); i++) {
      batch.push({
        type: 'CreditsConsumed',
        metadata: { actorId: `member-${i % 7}` },
        data: {
          workspaceId,
          consumptionId: `${workspaceId}-c${i}`,
          idempotencyKey: `k${i}`,
          action: 'PERSON_ENRICHMENT',
          units: 1,
          creditsPerUnit: 1,
          credits: 1,
          drawdown: [{ grantId: `grant-${workspaceId}`, source: 'PROMOTIONAL', credits: 1 }],
          availableAfter: 10_000_000 - i - 1,
          actorId: `member-${i % 7}`,
          reference: `enrichment run ${i} for account ${i % 97}`,
          consumedAt: new Date(at + i * 1000).toISOString(),
        },
      });
    }
    revision = (await store.appendToStream(stream, batch, { expectedRevision: revision })).nextExpectedRevision;
  }
  await store.close();
}

function measure(dataDir: string, workspaceId: string, format: string) {
  const output = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      resolve(__dirname, 'fixtures/export-memory.js'),
      join(dataDir, 'read-models.sqlite'),
      workspaceId,
      format,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(output) as { count: number; bytes: number; peakHeapGrowth: number };
}

it('streams 100,000 ledger entries without memory growing with the count', async () => {
  const dataDir = newDataDir();
  await seed(join(dataDir, 'events.sqlite'), 'small', 10_000);
  await seed(join(dataDir, 'events.sqlite'), 'large', 100_000);
  // The CLI brings the ledger up to date before exporting; this export of nothing does just that.
  runCreditsCli(dataDir, ['export', '--workspace', 'nobody']);

  for (const format of ['csv', 'ndjson']) {
    const small = measure(dataDir, 'small', format);
    const large = measure(dataDir, 'large', format);
    expect(small.count).toBe(10_001);
    expect(large.count).toBe(100_001);
    expect(large.bytes).toBeGreaterThan(9 * small.bytes);
    // Holding 100,000 entries would take tens of MB; streaming stays within a few.
    expect(large.peakHeapGrowth).toBeLessThan(8 * MB);
    expect(large.peakHeapGrowth).toBeLessThan(small.peakHeapGrowth + 4 * MB);
  }
}, 120_000);
