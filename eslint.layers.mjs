// @ts-check
/**
 * The layers of the service and what each may import: the one table `npm run lint` enforces
 * (eslint-plugin-boundaries, in eslint.config.mjs) and docs/architecture.md draws. A file may import
 * its own layer and the layers listed under `imports`; any other import of a file of src/,
 * projections/ or reactions/ fails lint. Patterns are from the repository root, most specific first
 * (a file belongs to the first layer whose pattern matches it). tools/, test/ and bench/ may import
 * anything and are not listed.
 *
 * Dependencies point inward: domain ← events ← commands, projections, reactions ← queries ←
 * graphql ← server ← cli. Adapters depend on their port; only the composition root (src/server)
 * and the CLI pick an adapter.
 */

/** @type {Record<string, { pattern: string | string[]; imports: string[] }>} */
export const LAYERS = {
  // Pure: the decider, the rules of money, the vocabulary. No I/O, no clock, nothing outside itself.
  domain: { pattern: 'src/domain/**', imports: [] },

  // Shared leaves with no dependencies of their own: time, new ids, where the repository lies,
  // making DATA_DIR's directories and the development secrets kept in it.
  clock: { pattern: 'src/clock.ts', imports: [] },
  ids: { pattern: 'src/ids.ts', imports: [] },
  'project-root': { pattern: 'src/project-root.ts', imports: [] },
  'make-directory': { pattern: 'src/make-directory.ts', imports: [] },

  // Ports, and the adapters that implement them.
  'eventstore-port': { pattern: 'src/eventstore/port.ts', imports: [] },
  'eventstore-adapter': {
    pattern: ['src/eventstore/sqlite/**', 'src/eventstore/esdb/**', 'src/eventstore/*-subscription.ts'],
    imports: ['eventstore-port', 'ids', 'make-directory'],
  },
  'snapshots-port': { pattern: 'src/snapshots/port.ts', imports: [] },
  'snapshots-adapter': { pattern: 'src/snapshots/**', imports: ['snapshots-port', 'domain', 'make-directory'] },
  'payments-port': { pattern: 'src/payments/payment-gateway.ts', imports: ['domain'] },
  'payments-adapter': { pattern: 'src/payments/stripe-gateway.ts', imports: ['payments-port', 'domain'] },
  'webhooks-port': { pattern: 'src/webhooks/port.ts', imports: [] },
  'webhooks-adapter': { pattern: 'src/webhooks/**', imports: ['webhooks-port'] },

  // Configuration read by both sides: the rate card, plans and packages; tokens and roles.
  catalog: { pattern: 'src/catalog/**', imports: ['domain'] },
  auth: { pattern: 'src/auth/**', imports: ['make-directory', 'domain'] },

  // Where events live in the store and how old versions read today.
  events: { pattern: 'src/events/**', imports: ['domain', 'eventstore-port'] },

  // The write side: load, decide, append. It reads no read model (its lookups are ports).
  commands: {
    pattern: 'src/commands/**',
    imports: [
      'domain',
      'events',
      'eventstore-port',
      'snapshots-port',
      'payments-port',
      'webhooks-port',
      'catalog',
      'clock',
      'ids',
    ],
  },

  // The read models, fed from the log. They know nothing of commands, queries or GraphQL.
  'projection-contract': { pattern: 'projections/projection.ts', imports: ['eventstore-port'] },
  projections: { pattern: 'projections/**', imports: ['projection-contract', 'domain', 'events', 'eventstore-port'] },

  // Side effects: derivations (projections writing work) and performers that record outcomes as commands.
  reactions: {
    pattern: 'reactions/**',
    imports: [
      'projection-contract',
      'domain',
      'events',
      'eventstore-port',
      'commands',
      'payments-port',
      'webhooks-port',
      'catalog',
      'clock',
    ],
  },

  // The read side as the API sees it: read models, the reactions' work, time travel over the log.
  queries: {
    pattern: 'src/queries/**',
    imports: ['projections', 'reactions', 'domain', 'events', 'eventstore-port', 'catalog', 'clock'],
  },

  // The API: types, inputs and resolvers over queries and commands.
  graphql: {
    pattern: 'src/graphql/**',
    imports: ['queries', 'commands', 'domain', 'auth', 'catalog', 'payments-port', 'webhooks-port', 'project-root'],
  },

  // The composition root: wires everything, picks the adapters, serves HTTP.
  server: { pattern: ['src/server/**', 'src/main.ts'], imports: ['*'] },

  // The operators' and analysts' tools: open the stores through the composition root, read anything.
  cli: { pattern: 'src/cli/**', imports: ['*'] },
};
