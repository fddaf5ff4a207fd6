/**
 * (8) Holds in process, through the real command side on the embedded store, shaped like (2): a
 * pair is a ReserveCredits and, once it is durable, the SettleCreditHold of that hold (for part of
 * it, so the rest is given back), with 1,000 pairs in flight, across many workspaces or on one.
 * A pair counts once its settle has committed durably. Judged against the spends per second of
 * the same run: a pair is two commands, so half the spend rate is the par.
 */
import { HoldCommands } from '../../src/commands/hold-commands';
import { inFlight } from '../support';
import { onCommandSide } from './command-side';

export interface HoldsResult {
  pairs: number;
  seconds: number;
  pairsPerSecond: number;
  projectionLagSeconds: number;
}

export async function holdsBench(options: {
  workspaces: number;
  pairs: number;
  concurrency: number;
  projections: boolean;
}): Promise<HoldsResult> {
  const { seconds, projectionLagSeconds } = await onCommandSide(options, async ({ handler, catalog }) => {
    const holds = new HoldCommands(handler, catalog);
    const service = { actorId: 'service' };
    await inFlight(options.pairs, options.concurrency, async (i) => {
      const workspaceId = `ws-${i % options.workspaces}`;
      const { result: hold } = await holds.reserveCredits(
        { workspaceId, action: 'PERSON_ENRICHMENT', units: 3, idempotencyKey: `h${i}` },
        service,
      );
      await holds.settleCreditHold(
        { workspaceId, holdId: hold.holdId, units: 2, idempotencyKey: `s${i}`, takeExcessFromBalance: false },
        service,
      );
    });
  });
  return { pairs: options.pairs, seconds, pairsPerSecond: Math.round(options.pairs / seconds), projectionLagSeconds };
}
