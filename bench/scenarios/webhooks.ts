/**
 * (11) Webhooks under the spend load of scenario (2): 1,000 workspaces, 1,000 spends in flight,
 * through the composition root (startCreditsService: command side, projection thread, reactions),
 * each spend acknowledged as the API acknowledges it (once the read models show it). Every
 * workspace's alert threshold is set so that its balance crosses it at a random spend of the run.
 * Each run first puts a tenth of the load through other workspaces, and waits for their webhooks,
 * so that it measures a server that has run a while, not one whose code V8 is still compiling.
 *
 * - Latency: from the acknowledged spend that crossed the threshold (its answer carries the
 *   CreditsLow) to the signed credits.low received and verified by a local receiver (a thread of
 *   its own, standardwebhooks), p50 / p99 over every crossing and endpoint.
 * - Throughput: spends per second with 10 platform endpoints subscribed to credits.low (each told
 *   of every crossing), as a ratio to the same load without endpoints, in the same run.
 *
 * The machine is shared, and other tenants' load moves a figure by half from one run to the next:
 * each configuration runs twice, in the order none, ten, ten, none, so that a drift weighs on both
 * alike; each one's throughput is its faster run, and the latencies are those of both runs with
 * endpoints together. The CPU time each run took (process.cpuUsage, every thread) gives what one
 * delivery costs, a figure other tenants move far less than the rates. Each run's spends start on a
 * collected heap (collectGarbage), so that no run pays for the garbage of the one before.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../../src/server/config';
import { startCreditsService } from '../../src/server/credits-service';
import { collectGarbage, inFlight, round, silentLogger, timed, withTempDir } from '../support';

export interface WebhooksRunResult {
  endpoints: number;
  spends: number;
  seconds: number;
  spendsPerSecond: number;
  crossings: number;
  delivered: number;
  unverified: number;
  /** CPU time of the whole process (every thread, the receiver's included) from the first spend to the last receipt. */
  cpuSeconds: number;
  /** The part of it the bench's receiver took (its own thread), null where the OS does not tell a thread's CPU time. */
  receiverCpuSeconds: number | null;
  latencyMs: { p50: number; p90: number; p99: number; max: number } | undefined;
  /** Every latency measured, sorted (left out of results.json). */
  latencies: number[];
}

const CREDITS_PER_SPEND = 7; // PERSON_ENRICHMENT

const summary = (sorted: number[]): WebhooksRunResult['latencyMs'] =>
  sorted.length === 0
    ? undefined
    : {
        p50: round(percentile(sorted, 50), 1),
        p90: round(percentile(sorted, 90), 1),
        p99: round(percentile(sorted, 99), 1),
        max: round(sorted.at(-1) ?? 0, 1),
      };
const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

interface Received {
  path: string;
  id: string;
  type: string;
  workspaceId: string;
  receivedAt: number;
  verified: boolean;
}

interface Receiver {
  url: string;
  received: Received[];
  worker: Worker;
  /** The CPU time the receiver's thread has taken so far (seconds), or null where the OS does not say. */
  cpuSeconds(): Promise<number | null>;
}

type FromReceiver = { received: Received[] } | { listening: number } | { cpuSeconds: number | null };

async function startReceiver(): Promise<Receiver> {
  const worker = new Worker(join(__dirname, '../../../bench/scenarios/webhook-receiver-worker.js'));
  const received: Received[] = [];
  const cpuAnswers: ((cpuSeconds: number | null) => void)[] = [];
  const port = await new Promise<number>((resolve) =>
    worker.on('message', (message: FromReceiver) => {
      if ('listening' in message) resolve(message.listening);
      else if ('cpuSeconds' in message) cpuAnswers.shift()?.(message.cpuSeconds);
      else received.push(...message.received);
    }),
  );
  const cpuSeconds = () =>
    new Promise<number | null>((resolve) => {
      cpuAnswers.push(resolve);
      worker.postMessage({ type: 'cpu' });
    });
  return { url: `http://127.0.0.1:${port}`, received, worker, cpuSeconds };
}

export async function webhooksRun(options: {
  workspaces: number;
  spends: number;
  concurrency: number;
  endpoints: number;
}): Promise<WebhooksRunResult> {
  return withTempDir('webhooks', async (dir) => {
    const receiver = await startReceiver();
    const config = loadConfig({
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      AUTH_JWT_SECRET: 'bench-secret-0123456789abcdef0123456789',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      EXPIRY_SWEEP_INTERVAL_MS: '3600000',
    });
    const service = await startCreditsService(config, silentLogger);
    const { commands, webhooks } = service.services;
    const admin = { actorId: 'bench' };
    try {
      const secrets: Record<string, string> = {};
      for (let e = 0; e < options.endpoints; e++) {
        const path = `/endpoint-${e}`;
        const { result } = await webhooks.commands.create(
          { workspaceId: null, url: `${receiver.url}${path}`, eventTypes: ['credits.low'], description: 'bench' },
          admin,
        );
        secrets[path] = result.secret;
      }
      receiver.worker.postMessage({ type: 'secrets', secrets });

      /** Workspaces `<prefix>-<w>`, each with credits for its spends and a threshold crossed at a random one. */
      const prepare = async (prefix: string, workspaces: number, spends: number): Promise<void> => {
        const perWorkspace = Math.ceil(spends / workspaces);
        const granted = CREDITS_PER_SPEND * perWorkspace + 50;
        for (let w = 0; w < workspaces; w++) {
          const workspaceId = `${prefix}-${w}`;
          const j = 1 + Math.floor(Math.random() * perWorkspace);
          await commands.configureAlerts(
            {
              workspaceId,
              rules: {
                lowBalanceCredits: granted - CREDITS_PER_SPEND * j + 1,
                lowBalancePercent: null,
                notify: { low: true, depleted: false, recovered: false },
                expiringSoonDays: null,
              },
            },
            admin,
          );
          await commands.grantCredits(
            { workspaceId, credits: granted, reason: 'bench', idempotencyKey: 'seed' },
            admin,
          );
        }
      };
      /** The spends, 1,000 in flight; when each crossing spend was acknowledged, by workspace. */
      const spend = async (prefix: string, workspaces: number, spends: number) => {
        const acknowledged = new Map<string, number>();
        const { seconds } = await timed(() =>
          inFlight(spends, options.concurrency, async (i) => {
            const workspaceId = `${prefix}-${i % workspaces}`;
            const outcome = await commands.consumeCredits(
              { workspaceId, action: 'PERSON_ENRICHMENT', units: 1, idempotencyKey: `${prefix}-k${i}` },
              { actorId: 'member' },
            );
            if (outcome.events.some((event) => event.type === 'CreditsLow')) {
              acknowledged.set(workspaceId, performance.timeOrigin + performance.now());
            }
          }),
        );
        return { seconds, acknowledged };
      };
      const receivedOf = (prefix: string) =>
        receiver.received.filter((message) => message.workspaceId.startsWith(`${prefix}-`));
      const delivered = async (prefix: string, expected: number): Promise<void> => {
        const deadline = Date.now() + 60_000;
        while (receivedOf(prefix).length < expected && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };

      // A server that has run a while, as one in production has: a tenth of the load first, with
      // its crossings delivered, so that the run measures neither V8 compiling the code paths nor
      // the sender thread's and the receiver's first requests.
      const warmWorkspaces = Math.max(1, Math.round(options.workspaces / 10));
      const warmSpends = Math.max(warmWorkspaces, Math.round(options.spends / 10));
      await prepare('warm', warmWorkspaces, warmSpends);
      const warm = await spend('warm', warmWorkspaces, warmSpends);
      await delivered('warm', warm.acknowledged.size * options.endpoints);

      await prepare('ws', options.workspaces, options.spends);
      collectGarbage();
      const receiverCpuBefore = await receiver.cpuSeconds();
      const cpuBefore = process.cpuUsage();
      const { seconds, acknowledged } = await spend('ws', options.workspaces, options.spends);
      await delivered('ws', acknowledged.size * options.endpoints);
      const cpu = process.cpuUsage(cpuBefore);
      const receiverCpuAfter = await receiver.cpuSeconds();
      const received = receivedOf('ws');
      const latencies = received
        .map((message) => message.receivedAt - (acknowledged.get(message.workspaceId) ?? Number.NaN))
        .filter((latency) => Number.isFinite(latency))
        .map((latency) => Math.max(0, latency))
        .sort((a, b) => a - b);
      return {
        endpoints: options.endpoints,
        spends: options.spends,
        seconds: round(seconds, 2),
        spendsPerSecond: Math.round(options.spends / seconds),
        crossings: acknowledged.size,
        delivered: received.length,
        unverified: received.filter((message) => !message.verified).length,
        cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
        receiverCpuSeconds:
          receiverCpuBefore === null || receiverCpuAfter === null
            ? null
            : round(receiverCpuAfter - receiverCpuBefore, 2),
        latencyMs: summary(latencies),
        latencies,
      };
    } finally {
      await service.close();
      receiver.worker.postMessage({ type: 'stop' });
      await new Promise((resolve) => receiver.worker.once('exit', resolve));
    }
  });
}

/** A run's figures without the list of latencies. */
const figures = ({ latencies: _latencies, ...rest }: WebhooksRunResult) => rest;

/** The same load without endpoints and with ten, twice each (none, ten, ten, none), in one run. */
export async function webhooksBench(options: { workspaces: number; spends: number; concurrency: number }) {
  const runs: WebhooksRunResult[] = [];
  for (const endpoints of [0, 10, 10, 0]) runs.push(await webhooksRun({ ...options, endpoints }));
  const of = (endpoints: number) => runs.filter((run) => run.endpoints === endpoints);
  const faster = (pair: WebhooksRunResult[]) =>
    pair.reduce((best, run) => (run.spendsPerSecond > best.spendsPerSecond ? run : best));
  const without = faster(of(0));
  const withTenRuns = of(10);
  const latencies = withTenRuns.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const withTen = {
    ...figures(faster(withTenRuns)),
    crossings: withTenRuns.reduce((sum, run) => sum + run.crossings, 0),
    delivered: withTenRuns.reduce((sum, run) => sum + run.delivered, 0),
    unverified: withTenRuns.reduce((sum, run) => sum + run.unverified, 0),
    latencyMs: summary(latencies),
  };
  // What the deliveries cost the machine, whatever other tenants do to the wall rates: the CPU time
  // a run with endpoints took beyond the mean of the runs without, per delivery.
  const meanCpu = (pair: WebhooksRunResult[]) => pair.reduce((sum, run) => sum + run.cpuSeconds, 0) / pair.length;
  const deliveries = withTenRuns.reduce((sum, run) => sum + run.delivered, 0) / withTenRuns.length;
  // The receiver stands for the subscribers' own servers, which in production run elsewhere: its
  // share is shown apart, and what is left is what the service spends on a delivery.
  const receiverCpu = withTenRuns.map((run) => run.receiverCpuSeconds);
  const meanReceiverCpu = receiverCpu.every((cpu): cpu is number => cpu !== null)
    ? receiverCpu.reduce((sum, cpu) => sum + cpu, 0) / receiverCpu.length
    : undefined;
  const perDelivery = (seconds: number) => (deliveries === 0 ? undefined : round((seconds * 1000) / deliveries, 3));
  const cpuMsPerDelivery = perDelivery(meanCpu(withTenRuns) - meanCpu(of(0)));
  return {
    without: figures(without),
    withTen,
    runs: runs.map(figures),
    ratio: round(withTen.spendsPerSecond / without.spendsPerSecond, 2),
    cpuMsPerDelivery,
    receiverCpuMsPerDelivery: meanReceiverCpu === undefined ? undefined : perDelivery(meanReceiverCpu),
  };
}
