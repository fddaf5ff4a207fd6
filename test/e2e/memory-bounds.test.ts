/**
 * Memory bounded by configuration, against the real server: with RETRY_RECORDS_IN_MEMORY small, a
 * workspace's older spends leave memory for DATA_DIR/retry-records.sqlite, and a retry of one of
 * them still gets its first answer and charges nothing, before and after a restart.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConsumeCreditsDocument, WorkspaceCreditsDocument } from '../generated/graphql';
import { applyAllowance, execute, expectData } from '../support/graphql-client';
import {
  adminToken,
  newDataDir,
  serversKilledAfterEach,
  tokenFor,
  type ServerProcess,
} from '../support/server-process';

const start = serversKilledAfterEach();
const WORKSPACE = 'ws-memory-bounds';
const env = { RETRY_RECORDS_IN_MEMORY: '5' };

const spend = (server: ServerProcess, key: string, units = 1) =>
  execute(
    server.url,
    ConsumeCreditsDocument,
    { input: { workspaceId: WORKSPACE, action: 'PERSON_ENRICHMENT', units, idempotencyKey: key } },
    tokenFor(WORKSPACE, 'MEMBER'),
  );
const available = async (server: ServerProcess) =>
  (await expectData(server.url, WorkspaceCreditsDocument, { workspaceId: WORKSPACE }, adminToken())).workspaceCredits
    .available;

it('answers a retry of a spend no longer in memory with its first answer, before and after a restart', async () => {
  const dataDir = newDataDir();
  const first = await start({ dataDir, env });
  await applyAllowance(first.url, WORKSPACE, 'scale');
  const answers = [];
  for (let i = 0; i < 20; i++) answers.push((await spend(first, `k${i}`)).data?.consumeCredits);
  const left = await available(first);
  expect(existsSync(join(dataDir, 'retry-records.sqlite'))).toBe(true);

  const retried = (await spend(first, 'k0')).data?.consumeCredits;
  expect(retried).toEqual(answers[0]);
  const reused = await spend(first, 'k1', 2);
  expect(reused.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');
  expect(await available(first)).toBe(left);
  expect(await first.stop('SIGTERM')).toBe(0);

  const second = await start({ dataDir, env });
  expect((await spend(second, 'k2')).data?.consumeCredits).toEqual(answers[2]);
  expect(await available(second)).toBe(left);
});
