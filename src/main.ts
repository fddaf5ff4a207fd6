/**
 * `npm start`: the credits service on the embedded event store. SIGTERM or SIGINT stops accepting
 * requests, lets in-flight ones finish, then closes the projections and the store.
 */
import { resolveJwtSecret } from './auth/tokens';
import { loadConfig } from './server/config';
import { checkDataDir } from './server/data-dir-check';
import { startCreditsService } from './server/credits-service';
import { createLogger } from './server/logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  checkDataDir(config);
  const jwtSecret = resolveJwtSecret(config.jwtSecret, config.dataDir, config.production);
  // The projection and append threads start now; the HTTP and GraphQL modules load meanwhile.
  const starting = startCreditsService(config, logger);
  starting.catch(() => undefined); // a failure is reported below, once awaited
  const { startHttpServer } = await import('./server/http-server.js');
  const service = await starting;
  const http = await startHttpServer(
    service,
    {
      production: config.production,
      jwtSecret,
      logger,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      queryLimits: config.queryLimits,
      rateLimits: config.rateLimits,
      socketsPerCaller: config.socketsPerCaller,
      metricsToken: config.metricsToken,
    },
    { host: config.host, port: config.port },
  );
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await http.close();
      await service.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'unclean shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Only now: a supervisor that reads this line and signals at once must find the handlers in place,
  // or the signal's default action ends the process without draining.
  logger.info({ url: `${http.url}/graphql`, dataDir: config.dataDir }, 'credits service listening');
}

main().catch((error: unknown) => {
  // The logger may not exist yet (bad configuration), so report on stderr directly.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
