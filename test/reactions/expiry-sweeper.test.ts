/**
 * The expiry sweeper acts on time: it asks the read models which workspaces have something due and
 * sends each the sweep's command, which decides on the workspace's stream what that is. Among them,
 * workspaces skipped for last month's top-up limit, once a new month has started.
 */
import pino from 'pino';
import { ExpirySweeper } from '../../reactions/expiry-sweeper';
import type { CreditsCommands } from '../../src/commands/credits-commands';

const clockAt = (iso: string) => ({ now: () => new Date(iso) });

function sweeperWith(limitSkippedIn: Record<string, string>, now: string) {
  const swept: string[] = [];
  const asked: string[] = [];
  const commands = {
    expireCredits: (workspaceId: string) => {
      swept.push(workspaceId);
      return Promise.resolve();
    },
    noticeExpiringCredits: () => Promise.resolve(),
  } as unknown as CreditsCommands;
  const sweeper = new ExpirySweeper(
    { workspacesWithDueExpiries: () => [] },
    { workspacesWithExpiringCredits: () => [] },
    {
      workspacesToTopUpAfterLimit: (month, limit) => {
        asked.push(month);
        return Object.entries(limitSkippedIn)
          .filter(([, skipped]) => skipped < month)
          .slice(0, limit)
          .map(([workspaceId]) => workspaceId);
      },
    },
    commands,
    clockAt(now),
    pino({ level: 'silent' }),
  );
  return { sweeper, swept, asked };
}

it('sends the sweep to workspaces skipped for an earlier month’s limit, in the month of the sweep', async () => {
  const { sweeper, swept, asked } = sweeperWith(
    { january: '2025-01', february: '2025-02' },
    '2025-02-01T00:00:30.000Z',
  );
  expect(await sweeper.sweep()).toBe(1);
  expect(asked).toEqual(['2025-02']);
  expect(swept).toEqual(['january']);
});
