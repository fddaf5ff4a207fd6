/**
 * A stand-in for an EventStoreDB node for tests: a gRPC server (@grpc/grpc-js) on a local port
 * serving the service definitions and message classes generated in @eventstore/db-client, over an
 * in-memory log. The real client connects to it with `esdb://127.0.0.1:<port>?tls=false`.
 *
 * - `ServerFeatures.GetSupportedMethods` reports BatchAppend, so the client appends the way it does
 *   against EventStoreDB 21.10 and later; with `batchAppend: false` the service is absent (as on
 *   20.x) and the client falls back to the Append call.
 * - While it runs, the node adds system events to `$all` every `chatterIntervalMs` (statistics, a
 *   projection link, a heartbeat in a `$` stream), so clients must filter `$all` for real.
 * - Appends larger than EventStoreDB's MaxAppendSize (default 1 MiB) are refused as it refuses them;
 *   `streams.failAfterCommit()` makes appends commit and then fail, an answer lost on the way back.
 * - `dropSubscriptions()` ends every subscription with an error status; `stop()` / `restart()` take
 *   the node down and up on the same port with its log intact, like a node restart.
 */
import { Server, ServerCredentials, type status } from '@grpc/grpc-js';
import {
  ServerFeaturesService,
  type IServerFeaturesServer,
} from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import { SupportedMethod, SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb';
import { StreamsService as StreamsServiceDefinition } from '@eventstore/db-client/generated/streams_grpc_pb';
import { freePort } from '../free-port';
import { InMemoryLog } from './in-memory-log';
import { StreamsService } from './streams-service';

export interface EsdbTestServerOptions {
  /** Port to listen on (127.0.0.1); 0 picks a free one. */
  port?: number;
  /** Whether the client is told BatchAppend is supported. Default true. */
  batchAppend?: boolean;
  /** How often system events are added to the log; 0 turns that off. Default 100 ms. */
  chatterIntervalMs?: number;
  /**
   * Misbehave: start subscriptions AT their position instead of strictly after it, sending again
   * the event a client resumes from. For testing that a client never delivers an event twice.
   */
  repeatSubscriptionStart?: boolean;
  /** EventStoreDB's MaxAppendSize: bigger appends are refused (see streams-service.ts). Default 1 MiB. */
  maxAppendSize?: number;
}

export interface EsdbTestServer {
  /** The connection string for the client. */
  url: string;
  port: number;
  log: InMemoryLog;
  streams: StreamsService;
  dropSubscriptions(code?: status): number;
  /** Takes the node down: every call fails, new ones are refused. The log is kept. */
  stop(): Promise<void>;
  /** Brings the node back on the same port. */
  restart(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

const STREAMS = 'event_store.client.streams.Streams';

export async function startEsdbTestServer(options: EsdbTestServerOptions = {}): Promise<EsdbTestServer> {
  const log = new InMemoryLog();
  const streams = new StreamsService(log, {
    repeatSubscriptionStart: options.repeatSubscriptionStart ?? false,
    ...(options.maxAppendSize !== undefined && { maxAppendSize: options.maxAppendSize }),
  });
  const batchAppend = options.batchAppend ?? true;
  let server: Server | undefined;
  const listen = async (port: number): Promise<number> => {
    const next = new Server();
    next.addService(StreamsServiceDefinition, streams.implementation);
    if (batchAppend) {
      const features: IServerFeaturesServer = {
        getSupportedMethods: (_call, callback) => callback(null, supportedMethods()),
      };
      next.addService(ServerFeaturesService, features);
    }
    const bound = await new Promise<number>((resolve, reject) =>
      next.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, actual) =>
        error ? reject(error) : resolve(actual),
      ),
    );
    server = next;
    return bound;
  };
  // Outside the ephemeral range, so that a restart on the same port cannot find it taken by an
  // outgoing connection's local port; another test may still bind the port between the probe and
  // this bind, so a port of our own choosing is chosen again when it is taken.
  const port = options.port !== undefined ? await listen(options.port) : await listenOnAFreePort(listen);

  const chatterIntervalMs = options.chatterIntervalMs ?? 100;
  const chatter =
    chatterIntervalMs > 0 ? setInterval(() => server && log.systemChatter(), chatterIntervalMs) : undefined;
  chatter?.unref();

  const stop = async () => {
    const running = server;
    server = undefined;
    running?.forceShutdown();
  };
  return {
    url: `esdb://127.0.0.1:${port}?tls=false`,
    port,
    log,
    streams,
    dropSubscriptions: (code) => streams.dropSubscriptions(code),
    stop,
    restart: async () => {
      if (server) return;
      await listen(port);
    },
    close: async () => {
      clearInterval(chatter);
      await stop();
    },
  };
}

function supportedMethods(): SupportedMethods {
  const method = (name: string, features: string[] = []) =>
    new SupportedMethod().setServiceName(STREAMS).setMethodName(name).setFeaturesList(features);
  return new SupportedMethods()
    .setEventStoreServerVersion('24.10.0-test')
    .setMethodsList([
      method('read', ['position', 'events']),
      method('append'),
      method('batchappend'),
      method('delete'),
      method('tombstone'),
    ]);
}

async function listenOnAFreePort(listen: (port: number) => Promise<number>): Promise<number> {
  for (let tries = 1; ; tries++) {
    try {
      return await listen(await freePort());
    } catch (error) {
      if (tries >= 5 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}
