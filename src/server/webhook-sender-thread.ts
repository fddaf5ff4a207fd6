/**
 * Webhook attempts are sent from a thread of their own (webhook-sender-worker.ts): reading the
 * delivery, signing it and the HTTP exchange run there, and the main thread, which decides
 * commands, only hands over what to send and records what came of it (the performer). Orders and
 * outcomes cross in batches, one message per turn of each thread's event loop.
 *
 * Should the thread end unasked (a crash), a new one is started after a pause and is handed every
 * order not answered yet: those attempts may reach their receivers twice, with the same
 * webhook-id, as at least once allows. After a few such restarts with nothing answered in between,
 * the orders waiting are refused, and the reaction executor tries their work again later.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { SendOrder, SendOutcome, WebhookSender } from '../../reactions/webhooks/sender';

/** What the thread is started with. */
export interface WebhookSenderWorkerData {
  readModelFile: string;
  /** The key that opens sealed signing secrets (WEBHOOK_SECRET_KEY). */
  secretKey: Uint8Array;
  allowPrivateUrls: boolean;
  timeoutMs: number;
  connectionsPerOrigin: number;
  logLevel: string;
}

export type ToWebhookSender = { type: 'send'; orders: (SendOrder & { id: number })[] } | { type: 'stop' };
/** An order's outcome, or why it could not be sent at all (the performer's attempt then throws). */
export type SenderAnswer = { id: number; outcome: SendOutcome } | { id: number; error: string };
export type FromWebhookSender = { type: 'sent'; answers: SenderAnswer[] };

export interface WebhookSenderThreadOptions extends WebhookSenderWorkerData {
  logger: Logger;
  /** The pause before a thread that ended unasked is replaced. Default 1 s. */
  restartDelayMs?: number;
}

/** Restarts in a row, with nothing answered in between, before the orders waiting are refused. */
const MAX_RESTARTS = 3;

function workerFile(): string {
  const beside = join(__dirname, 'webhook-sender-worker.js');
  return existsSync(beside) ? beside : resolve(__dirname, '../../dist/src/server/webhook-sender-worker.js');
}

interface Pending {
  order: SendOrder;
  resolve(outcome: SendOutcome): void;
  reject(error: Error): void;
}

export class WebhookSenderThread implements WebhookSender {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private queued: number[] = [];
  private flushScheduled = false;
  private nextId = 0;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(private readonly options: WebhookSenderThreadOptions) {
    this.worker = this.start();
  }

  send(order: SendOrder): Promise<SendOutcome> {
    if (this.closing) return Promise.reject(new Error('The webhook sender has stopped.'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { order, resolve, reject });
      this.queue(id);
    });
  }

  /** Lets the thread finish what it is sending, then ends it; what is still waiting is refused. */
  async close(timeoutMs = 15_000): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      const exited = new Promise((done) => worker.once('exit', done));
      worker.postMessage({ type: 'stop' } satisfies ToWebhookSender);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((done) => (timer = setTimeout(() => done('late'), timeoutMs)));
      if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
      clearTimeout(timer);
    }
    this.refuseAll(new Error('The webhook sender has stopped.'));
  }

  /** For tests: ends the thread as a crash would. */
  async crash(): Promise<void> {
    await this.worker?.terminate();
  }

  private start(): Worker {
    const { readModelFile, secretKey, allowPrivateUrls, timeoutMs, connectionsPerOrigin, logLevel } = this.options;
    const workerData: WebhookSenderWorkerData = {
      readModelFile,
      secretKey,
      allowPrivateUrls,
      timeoutMs,
      connectionsPerOrigin,
      logLevel,
    };
    const worker = new Worker(workerFile(), { workerData });
    worker.on('message', (message: FromWebhookSender) => this.answered(message));
    worker.on('error', (error) => this.options.logger.error({ err: error }, 'the webhook sender thread failed'));
    worker.on('exit', (code) => this.exited(worker, code));
    return worker;
  }

  private queue(id: number): void {
    this.queued.push(id);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.worker || this.queued.length === 0) return;
    const orders = this.queued.flatMap((id) => {
      const pending = this.pending.get(id);
      return pending ? [{ id, ...pending.order }] : [];
    });
    this.queued = [];
    this.worker.postMessage({ type: 'send', orders } satisfies ToWebhookSender);
  }

  private answered(message: FromWebhookSender): void {
    this.restarts = 0;
    for (const answer of message.answers) {
      const pending = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if ('outcome' in answer) pending?.resolve(answer.outcome);
      else pending?.reject(new Error(answer.error));
    }
  }

  private exited(worker: Worker, code: number): void {
    if (this.worker !== worker || this.closing) return;
    this.worker = undefined;
    this.restarts += 1;
    const { logger, restartDelayMs = 1_000 } = this.options;
    logger.error({ code, waiting: this.pending.size }, 'the webhook sender thread ended; starting another');
    if (this.restarts > MAX_RESTARTS) {
      this.refuseAll(new Error(`The webhook sender thread ended ${this.restarts} times in a row (code ${code}).`));
    }
    this.restartTimer = setTimeout(() => {
      if (this.closing) return;
      this.worker = this.start();
      // Every order not answered goes to the new thread, in the order it was given.
      this.queued = [...this.pending.keys()];
      this.flushScheduled = false;
      this.flush();
    }, restartDelayMs);
    this.restartTimer.unref();
  }

  private refuseAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.queued = [];
  }
}
