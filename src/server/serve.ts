/**
 * The service and its HTTP server on one configuration, started in the order `npm start` needs and
 * stopped in the reverse order: what `src/main.ts` and `npm run demo` both run.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { resolveJwtSecret } from '../auth/tokens';
import type { Config } from './config';
import { systemClock } from '../clock';
import { startCreditsService, type CreditsService, type ServiceOptions } from './credits-service';
import type { RunningHttpServer } from './http-server';

export interface Serving {
  service: CreditsService;
  http: RunningHttpServer;
  /** The secret bearer tokens are verified with (AUTH_JWT_SECRET or the development secret). */
  jwtSecret: string;
  /** Logs the "credits service listening" line supervisors and tests wait for. */
  announce(): void;
  /** Stops accepting requests, lets in-flight ones finish, then closes the projections and the store. */
  close(): Promise<void>;
}

export async function serve(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<Serving> {
  const jwtSecret = resolveJwtSecret(config.jwtSecret, config.dataDir, config.production);
  // The projection and append threads start now; the HTTP and GraphQL modules load meanwhile.
  const starting = startCreditsService(config, logger, systemClock, options);
  starting.catch(() => undefined); // a failure is reported below, once awaited
  const { startHttpServer } = await import('./http-server.js');
  const service = await starting;
  let http: RunningHttpServer;
  try {
    http = await startHttpServer(
      service,
      {
        production: config.production,
        jwtSecret,
        logger,
        shutdownTimeoutMs: config.shutdownTimeoutMs,
        shutdownLingerMs: config.shutdownLingerMs,
        queryLimits: config.queryLimits,
        rateLimits: config.rateLimits,
        socketLimits: config.socketLimits,
        metricsToken: config.metricsToken,
      },
      { host: config.host, port: config.port },
    );
  } catch (error) {
    await service.close();
    throw error;
  }
  service.publicUrl.listeningOn((http.server.address() as AddressInfo).port);
  return {
    service,
    announce() {
      logger.info(
        { url: `${http.url}/graphql`, publicUrl: service.publicUrl.url, dataDir: config.dataDir },
        'credits service listening',
      );
    },
    http,
    jwtSecret,
    async close() {
      await http.close();
      await service.close();
    },
  };
}
