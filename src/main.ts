/**
 * `npm start`: the credits service on the embedded event store. SIGTERM or SIGINT stops accepting
 * requests, lets in-flight ones finish, then closes the projections and the store.
 */
import { loadConfig } from './server/config';
import { checkDataDir } from './server/data-dir-check';
import { lockDataDir } from './server/data-dir-lock';
import { createLogger, routeConsoleToLogger } from './server/logger';
import { serve } from './server/serve';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  routeConsoleToLogger(logger);
  checkDataDir(config);
  const lock = lockDataDir(config.dataDir, 'the server', { server: true });
  // Restarted after a crash, the server takes over its dead predecessor's reactor lease at once
  // rather than wait for it to lapse.
  const serving = await serve(config, logger, { reactor: { holder: lock.holderId, predecessor: lock.predecessorId } });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await serving.close();
      lock.release();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'unclean shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // The terminal that ran `npm start` closing: drained as a stop, not ended mid-request.
  process.on('SIGHUP', () => void stop('SIGHUP'));
  // Only now: a supervisor that reads this line and signals at once must find the handlers in place,
  // or the signal's default action ends the process without draining.
  serving.announce();
}

main().catch((error: unknown) => {
  // The logger may not exist yet (bad configuration), so report on stderr directly (the console
  // goes through the logger once it exists).
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
