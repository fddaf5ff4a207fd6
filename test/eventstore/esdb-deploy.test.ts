/**
 * The deployment files for EventStoreDB: docker-compose.yml (a single node and the API; the
 * "cluster" profile with three nodes, two API replicas and nginx), the API's Dockerfile and the
 * proxy configuration. No Docker runs here, so this checks their structure and wiring; the
 * connection strings go through the service's own configuration and the real client's parser.
 * (`docker compose config` checks the file against the Compose specification where Docker is.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { EventStoreDBClient } from '@eventstore/db-client';
import { parse } from 'yaml';
import { loadConfig } from '../../src/server/config';

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as Compose;
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const env = (name: string) => service(name).environment ?? {};

/** What the service would do with the EVENTSTORE_URL a compose service gives it. */
async function acceptedUrl(name: string): Promise<string> {
  const url = env(name).EVENTSTORE_URL!;
  expect(loadConfig({ EVENTSTORE_URL: url }).eventStoreUrl).toBe(url);
  await EventStoreDBClient.connectionString(url).dispose(); // parses it; connects lazily, so never here
  return url;
}

describe('docker-compose.yml', () => {
  it('runs an insecure single EventStoreDB node with a health check and its data on a named volume', () => {
    const node = service('eventstore');
    expect(node.profiles).toBeUndefined();
    expect(node.image).toMatch(/^eventstore\/eventstore:24\.10$|kurrentdb/);
    expect(env('eventstore')).toMatchObject({ EVENTSTORE_INSECURE: 'true', EVENTSTORE_RUN_PROJECTIONS: 'None' });
    expect(node.healthcheck?.test.join(' ')).toContain('curl -fsS http://localhost:2113/health/live');
    expect(node.volumes).toContain('eventstore-data:/var/lib/eventstore');
    expect(compose.volumes).toHaveProperty('eventstore-data');
  });

  it('builds the API from the Dockerfile and wires it to that node once healthy', async () => {
    const api = service('api');
    expect(api.profiles).toBeUndefined();
    expect(api.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(await acceptedUrl('api')).toBe('esdb://eventstore:2113?tls=false');
    expect(api.depends_on).toEqual({ eventstore: { condition: 'service_healthy' } });
    expect(env('api')).toMatchObject({ NODE_ENV: 'production', DATA_DIR: '/data' });
    // No secret of its own published here: compose refuses to start without the caller's.
    expect(env('api').AUTH_JWT_SECRET).toMatch(/^\$\{AUTH_JWT_SECRET:\?/);
    expect(env('api').WEBHOOK_SECRET_KEY).toMatch(/^\$\{WEBHOOK_SECRET_KEY:\?/);
    expect(api.volumes).toEqual(['api-data:/data']);
    expect(api.ports).toEqual(['4000:4000']);
  });

  it('has a "cluster" profile: three gossiping nodes, two API replicas on all three, nginx in front', async () => {
    const nodes = ['esdb-node1', 'esdb-node2', 'esdb-node3'];
    for (const node of nodes) {
      expect(service(node).profiles).toEqual(['cluster']);
      expect(env(node)).toMatchObject({ EVENTSTORE_CLUSTER_SIZE: '3', EVENTSTORE_INSECURE: 'true' });
      const seeds = env(node).EVENTSTORE_GOSSIP_SEED!.split(',');
      expect(seeds.sort()).toEqual(nodes.filter((other) => other !== node).map((other) => `${other}:2113`));
      expect(service(node).healthcheck?.test.join(' ')).toContain('/health/live');
      expect(service(node).volumes).toEqual([`${node}-data:/var/lib/eventstore`]);
    }
    for (const replica of ['api-1', 'api-2']) {
      expect(service(replica).profiles).toEqual(['cluster']);
      const url = await acceptedUrl(replica);
      expect(url).toMatch(/^esdb:\/\/esdb-node1:2113,esdb-node2:2113,esdb-node3:2113\?tls=false/);
      expect(Object.keys(service(replica).depends_on ?? {}).sort()).toEqual(nodes);
      expect(service(replica).volumes).toEqual([`${replica}-data:/data`]);
    }
    const proxy = service('proxy');
    expect(proxy.profiles).toEqual(['cluster']);
    expect(proxy.image).toMatch(/^nginx:/);
    expect(proxy.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(proxy.depends_on).toEqual({
      'api-1': { condition: 'service_healthy' },
      'api-2': { condition: 'service_healthy' },
    });
  });

  it('declares every named volume it mounts and needs no variable to be set', () => {
    for (const [name, definition] of Object.entries(compose.services)) {
      for (const volume of definition.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) {
          expect({ service: name, declared: source in compose.volumes }).toEqual({ service: name, declared: true });
        }
      }
    }
    // Every ${VAR} has a default, so `docker compose config` passes in a fresh clone.
    expect(composeText.match(/\$\{[A-Z_]+\}/g)).toBeNull();
  });
});

describe('deploy/nginx.conf', () => {
  const nginx = read('deploy/nginx.conf');

  it('balances over both replicas and upgrades WebSocket connections for subscriptions', () => {
    const upstream = /upstream credits_api \{([^}]*)\}/.exec(nginx)?.[1] ?? '';
    expect(upstream.match(/server (api-\d):4000/g)).toEqual(['server api-1:4000', 'server api-2:4000']);
    expect(nginx).toContain('proxy_pass http://credits_api;');
    expect(nginx).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(nginx).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(nginx).toContain('proxy_http_version 1.1;');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages[stages.length - 1]!;

  it('builds in separate stages and runs production dependencies only, as the node user', () => {
    expect(dockerfile).toContain('ARG NODE_IMAGE=node:20-bookworm-slim');
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/npm run build/);
    expect(dockerfile).toMatch(/python3 make g\+\+/);
    expect(runtime).toMatch(/COPY --from=deps \/app\/node_modules/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist/);
    expect(runtime).not.toMatch(/npm ci(?! --omit=dev)/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/src\/main.js"\]$/m);
  });

  it('copies into the build every directory the server’s code imports from', () => {
    const build = stages.find((stage) => /^\S+ AS build\b/.test(stage))!;
    const copied = [...build.matchAll(/^COPY (\w+) \.\/\1$/gm)].map((match) => match[1]!);
    expect(copied).toEqual(expect.arrayContaining(['src', 'projections']));
    const needed = new Set<string>();
    for (const dir of copied) {
      for (const file of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.ts')) continue;
        for (const [, path] of read(join(dir, file)).matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
          needed.add(relative(ROOT, resolve(ROOT, dir, dirname(file), path!)).split(sep)[0]!);
        }
      }
    }
    expect([...needed].filter((dir) => !copied.includes(dir))).toEqual([]);
  });

  it('keeps dependencies, build output and local data out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['node_modules', 'dist', 'data', '.git', 'test']) expect(ignored).toContain(entry);
  });
});
