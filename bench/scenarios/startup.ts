/** (6) Startup: time from spawning the server to /readyz answering ready, on a projected log. */
import { startBuiltServer } from '../support';

export async function startupBench(dataDir: string): Promise<{ seconds: number }> {
  const server = await startBuiltServer(
    { DATA_DIR: dataDir, AUTH_JWT_SECRET: 'bench-secret-0123456789abcdef0123456789' },
    '/readyz',
  );
  await server.stop();
  return { seconds: server.seconds };
}
