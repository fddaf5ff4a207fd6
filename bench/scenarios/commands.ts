/**
 * (2) ConsumeCredits in process, through the real command side on the embedded store: across many
 * workspaces, and on one hot workspace; alone, like for like with the ceiling, and with the
 * projections following on their own thread as in the server. A spend counts once its append has
 * committed durably (the promise the API would answer from has resolved). How long the projections
 * then take to reach the last spend is reported beside it.
 */
import { inFlight } from '../support';
import { onCommandSide } from './command-side';

export interface CommandsResult {
  spends: number;
  seconds: number;
  spendsPerSecond: number;
  /** From the last spend's commit until every projection had applied it (0 without projections). */
  projectionLagSeconds: number;
}

export async function consumeBench(options: {
  workspaces: number;
  spends: number;
  concurrency: number;
  /** Run the projections beside the commands, as the server does. */
  projections: boolean;
}): Promise<CommandsResult> {
  const { seconds, projectionLagSeconds } = await onCommandSide(options, ({ commands }) =>
    inFlight(options.spends, options.concurrency, (i) =>
      commands.consumeCredits(
        {
          workspaceId: `ws-${i % options.workspaces}`,
          action: 'PERSON_ENRICHMENT',
          units: 1,
          idempotencyKey: `k${i}`,
        },
        { actorId: 'member' },
      ),
    ),
  );
  return {
    spends: options.spends,
    seconds,
    spendsPerSecond: Math.round(options.spends / seconds),
    projectionLagSeconds,
  };
}
