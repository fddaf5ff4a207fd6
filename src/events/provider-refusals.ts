/**
 * Payment-provider events the service refused (ids or metadata breaking the API's rules), each in
 * a stream of its own named after the provider's event id, so that recording it twice is refused
 * by the store and admins can list them.
 */
import type { RecordedEvent } from '../eventstore/port';

export const REFUSED_EVENTS_CATEGORY = 'payment-provider-refused';

export const refusedEventStream = (eventId: string): string => `${REFUSED_EVENTS_CATEGORY}-${eventId}`;

export interface ProviderEventRefused {
  eventId: string;
  type: string;
  reason: string;
  refusedAt: string;
}

export const toProviderEventRefused = (recorded: RecordedEvent): ProviderEventRefused | undefined =>
  recorded.streamName.startsWith(`${REFUSED_EVENTS_CATEGORY}-`) && recorded.type === 'ProviderEventRefused'
    ? (recorded.data as unknown as ProviderEventRefused)
    : undefined;
