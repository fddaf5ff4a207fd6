/**
 * Given / When / Then for the workspace credits decider, in the style of Emmett's DeciderSpecification:
 *
 *   given(...pastEvents).when(command).then(...expectedEvents)
 *   given(...pastEvents).when(command).thenExactly(...expectedEvents) // crossings compared too
 *   given(...pastEvents).when(command).thenNothing()            // an idempotent retry
 *   given(...pastEvents).when(command).thenThrows(code, details?) // a refusal: no events at all
 *
 * Every run also checks that `decide` only reads the state it is given, and that it decides the
 * same on the state restored from a snapshot of the history.
 *
 * The balance crossings `decide` adds (CreditsLow, CreditsDepleted, CreditsRecovered: alerts.ts)
 * are compared only by a spec that names one of them (or uses thenExactly, to say there is none); a
 * spec about something else is not made to restate the alerts its balance happens to raise.
 */
import type { WorkspaceCreditsCommand } from '../../src/domain/commands';
import { decide } from '../../src/domain/decide';
import { CreditsError, type CreditsErrorCode } from '../../src/domain/errors';
import type { WorkspaceCreditsEvent } from '../../src/domain/events';
import { evolve } from '../../src/domain/evolve';
import { initialState, type WorkspaceCreditsState } from '../../src/domain/state';
import { decodeState, encodeState } from '../../src/domain/state-snapshot';

/** Folds a stream into a fresh state, as the aggregate does when it loads it. */
export const stateOf = (events: readonly WorkspaceCreditsEvent[]): WorkspaceCreditsState =>
  events.reduce(evolve, initialState());

type Outcome = { events: WorkspaceCreditsEvent[] } | { error: unknown };

const CROSSINGS: ReadonlySet<string> = new Set(['CreditsLow', 'CreditsDepleted', 'CreditsRecovered']);
const isCrossing = (event: WorkspaceCreditsEvent): boolean => CROSSINGS.has(event.type);

export function given(...history: WorkspaceCreditsEvent[]) {
  return {
    state: (): WorkspaceCreditsState => stateOf(history),
    when(command: WorkspaceCreditsCommand) {
      const decideOn = (state: WorkspaceCreditsState): Outcome => {
        try {
          return { events: decide(command, state) };
        } catch (error) {
          return { error };
        }
      };
      const run = (): Outcome => {
        const state = stateOf(history);
        const outcome = decideOn(state);
        expect(state).toEqual(stateOf(history)); // decide must not change the state it reads
        expect(decideOn(decodeState(encodeState(stateOf(history))))).toStrictEqual(outcome);
        return outcome;
      };
      const eventsOf = (outcome: Outcome): WorkspaceCreditsEvent[] => {
        if ('error' in outcome) throw outcome.error;
        return outcome.events;
      };
      return {
        then(...expected: WorkspaceCreditsEvent[]): void {
          const events = eventsOf(run());
          const compared = expected.some(isCrossing) ? events : events.filter((event) => !isCrossing(event));
          expect(compared).toStrictEqual(expected);
          events.reduce(evolve, stateOf(history)); // the decided events fold onto the stream
        },
        /** Exactly these events, crossings included: for a spec that says no crossing is made. */
        thenExactly(...expected: WorkspaceCreditsEvent[]): void {
          const events = eventsOf(run());
          expect(events).toStrictEqual(expected);
          events.reduce(evolve, stateOf(history));
        },
        thenNothing(): void {
          expect(eventsOf(run())).toStrictEqual([]);
        },
        thenThrows(code: CreditsErrorCode, details?: Record<string, unknown>): void {
          const outcome = run();
          if (!('error' in outcome)) throw new Error(`Expected ${code}, got events ${JSON.stringify(outcome.events)}`);
          expect(outcome.error).toBeInstanceOf(CreditsError);
          expect((outcome.error as CreditsError).code).toBe(code);
          if (details) expect((outcome.error as CreditsError).details).toMatchObject(details);
        },
      };
    },
  };
}
