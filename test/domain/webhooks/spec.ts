/**
 * Given / When / Then for the webhook endpoint's decider, as test/domain/spec.ts is for the
 * workspace's: given(...events).when(command).then(...events) | .thenNothing() | .thenThrows(code).
 * Every run also checks that `decide` leaves the state it reads alone, and that the decided events
 * fold onto the stream.
 */
import { CreditsError, type CreditsErrorCode } from '../../../src/domain/errors';
import {
  decide,
  evolve,
  initialState,
  type WebhookEndpointCommand,
  type WebhookEndpointState,
} from '../../../src/domain/webhooks/endpoint-decider';
import type { WebhookEndpointEvent } from '../../../src/domain/webhooks/endpoint-events';

export const stateOf = (events: readonly WebhookEndpointEvent[]): WebhookEndpointState =>
  events.reduce(evolve, initialState());

export function given(...history: WebhookEndpointEvent[]) {
  return {
    when(command: WebhookEndpointCommand) {
      const run = (): WebhookEndpointEvent[] => {
        const state = stateOf(history);
        try {
          return decide(command, state);
        } finally {
          expect(state).toEqual(stateOf(history));
        }
      };
      return {
        then(...expected: WebhookEndpointEvent[]): void {
          const events = run();
          expect(events).toStrictEqual(expected);
          events.reduce(evolve, stateOf(history));
        },
        thenNothing(): void {
          expect(run()).toStrictEqual([]);
        },
        thenThrows(code: CreditsErrorCode): void {
          let error: unknown;
          try {
            run();
          } catch (caught) {
            error = caught;
          }
          expect(error).toBeInstanceOf(CreditsError);
          expect((error as CreditsError).code).toBe(code);
        },
      };
    },
  };
}
