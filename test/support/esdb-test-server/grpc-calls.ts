/** Small helpers for the test server's gRPC calls: flow-controlled writes and error statuses. */
import { status, type Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import type { ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb';

export type ReadCall = ServerWritableStream<ReadReq, ReadResp>;

/** Writes with flow control; false when the call ended before it could be written. */
export async function write(call: ReadCall, response: ReadResp): Promise<boolean> {
  if (call.cancelled || call.destroyed || call.writableEnded) return false;
  if (call.write(response)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      for (const event of ['drain', 'close', 'cancelled']) call.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'cancelled']) call.on(event, done);
  });
  return !(call.cancelled || call.destroyed || call.writableEnded);
}

/** An error grpc-js sends as the call's status. */
export class ServiceError extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
    /** Trailers sent with the status: EventStoreDB names its exception in `exception`. */
    readonly metadata?: Metadata,
  ) {
    super(details);
    this.name = 'ServiceError';
  }
}

export const invalid = (details: string) => new ServiceError(status.INVALID_ARGUMENT, details);
export const unimplemented = (details: string) => new ServiceError(status.UNIMPLEMENTED, details);

export function asServiceError(error: unknown): ServiceError {
  if (typeof error === 'object' && error !== null && 'code' in error && 'details' in error)
    return error as ServiceError;
  return invalid(error instanceof Error ? error.message : String(error));
}

export function fail(call: ReadCall, error: unknown): void {
  if (call.cancelled || call.writableEnded) return;
  call.emit('error', asServiceError(error));
}
