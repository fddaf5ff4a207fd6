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
import { listenWhileStarting } from './starting-server';

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
  // The address answers health probes from now on (starting-server.ts), so that a long catch-up
  // of the read models is not taken for a dead process. Not on PORT=0: nobody could know the port
  // the system picks before the service logs it, so nothing would probe it; a supervised
  // deployment names its port.
  const early =
    config.port === 0 ? undefined : await listenWhileStarting(config.host, config.port, config.requestTimeoutMs);
  // The projection and append threads start now; the HTTP and GraphQL modules load meanwhile.
  const starting = startCreditsService(config, logger, systemClock, options);
  starting.catch(() => undefined); // a failure is reported below, once awaited
  const loading = import('./http-server.js');
  loading.catch(() => undefined); // as above
  let service: CreditsService;
  try {
    service = await starting;
  } catch (error) {
    await early?.close();
    throw error;
  }
  let http: RunningHttpServer;
  try {
    const { startHttpServer } = await loading;
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
        requestTimeoutMs: config.requestTimeoutMs,
      },
      // Taken over once the service can answer (Apollo started): the port stays open throughout.
      { host: config.host, port: config.port, ...(early && { starting: early }) },
    );
  } catch (error) {
    await early?.close();
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
