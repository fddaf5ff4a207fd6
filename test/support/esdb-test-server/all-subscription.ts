/**
 * One subscription to `$all` on the test server: a confirmation, the log from its start on, then
 * `caught_up`, then every event appended later. Sending respects the call's flow control and a
 * single pump runs at a time, so events go out in log order, each once.
 */
import { randomUUID } from 'node:crypto';
import type { status } from '@grpc/grpc-js';
import { ReadResp, type ReadReq } from '@eventstore/db-client/generated/streams_pb';
import type { ServerFilter } from './filters';
import { ServiceError, write, type ReadCall } from './grpc-calls';
import type { InMemoryLog } from './in-memory-log';
import { eventResponse } from './messages';

export class AllSubscription {
  private pumping = false;
  private again = false;
  private caughtUp = false;
  private considered = 0;
  private ended = false;
  private endedSignal!: () => void;
  readonly finished = new Promise<void>((resolve) => (this.endedSignal = resolve));
  private readonly stopListening: () => void;

  constructor(
    private readonly call: ReadCall,
    private readonly log: InMemoryLog,
    private index: number,
    private readonly filter: ServerFilter,
    private readonly structuredIds: boolean,
  ) {
    this.stopListening = log.onAppend(() => void this.pump());
    call.on('cancelled', () => this.end());
    call.on('close', () => this.end());
  }

  async start(): Promise<void> {
    await write(
      this.call,
      new ReadResp().setConfirmation(new ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID())),
    );
    await this.pump();
    await this.finished;
  }

  drop(code: status, details: string): void {
    if (this.ended) return;
    this.end();
    this.call.emit('error', new ServiceError(code, details));
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopListening();
    this.endedSignal();
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.ended && this.index < this.log.events.length) {
          const event = this.log.events[this.index++]!;
          this.considered += 1;
          if (this.filter.accepts(event)) {
            if (!(await write(this.call, eventResponse(event, this.structuredIds)))) return this.end();
          }
          if (this.considered >= this.filter.checkpointInterval) {
            this.considered = 0;
            const position = event.position.toString();
            const checkpoint = new ReadResp.Checkpoint().setCommitPosition(position).setPreparePosition(position);
            if (!(await write(this.call, new ReadResp().setCheckpoint(checkpoint)))) return this.end();
          }
        }
        if (!this.caughtUp && !this.ended) {
          this.caughtUp = true;
          if (!(await write(this.call, new ReadResp().setCaughtUp(new ReadResp.CaughtUp())))) return this.end();
        }
      } while (this.again && !this.ended);
    } finally {
      this.pumping = false;
    }
  }
}

/** Index of the first event a subscription sends: strictly after its position, as EventStoreDB does. */
export function subscriptionStart(log: InMemoryLog, all: ReadReq.Options.AllOptions, repeatStart: boolean): number {
  if (all.hasPosition()) {
    const position = BigInt(all.getPosition()!.getCommitPosition());
    return repeatStart ? log.indexAtOrAfter(position) : log.indexAfter(position);
  }
  if (all.hasEnd()) return log.events.length;
  return 0;
}
