/**
 * Every Prometheus metric the service exports, in one registry, so that an operator reads one list
 * and a part of the service records into a metric by importing it from here. Lags are computed when
 * /metrics is scraped, never per event; the hot paths (the append thread, the GraphQL pipeline)
 * record with the cheapest calls prom-client has.
 */
import { subscribe } from 'node:diagnostics_channel';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { APPEND_GROUP_CHANNEL, type AppendGroupCommitted } from '../eventstore/sqlite/append-thread';

export const metricsRegistry = new Registry();
const registers = [metricsRegistry];

// The process: CPU, memory, heap, event-loop lag, handles, garbage collection.
collectDefaultMetrics({ register: metricsRegistry });

export const graphqlRequests = new Counter({
  name: 'credits_graphql_requests_total',
  help: "GraphQL operations over HTTP by operation name and outcome: ok, or the first error's extensions.code",
  labelNames: ['operation', 'outcome'] as const,
  registers,
});

export const graphqlRequestSeconds = new Histogram({
  name: 'credits_graphql_request_duration_seconds',
  help: 'Time from receiving a GraphQL operation over HTTP to its answer, by operation name',
  labelNames: ['operation'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  registers,
});

export const commandRefusals = new Counter({
  name: 'credits_command_refusals_total',
  help: 'Errors of mutations (commands) by extensions.code, e.g. INSUFFICIENT_CREDITS, FORBIDDEN',
  labelNames: ['code'] as const,
  registers,
});

export const rateLimitRefusals = new Counter({
  name: 'credits_rate_limit_refusals_total',
  help: 'Requests answered 429, by endpoint (graphql, webhook) and the limit crossed (token, address)',
  labelNames: ['endpoint', 'scope'] as const,
  registers,
});

export const appendBatchSize = new Histogram({
  name: 'credits_eventstore_append_batch_size',
  help: 'Appends committed together in one transaction by the embedded store (group commit)',
  buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
  registers,
});

export const appendCommitSeconds = new Histogram({
  name: 'credits_eventstore_commit_duration_seconds',
  help: "Time from sending a group of appends to the embedded store's append thread to its durable commit",
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  registers,
});

subscribe(APPEND_GROUP_CHANNEL, (message) => {
  const { appends, seconds } = message as AppendGroupCommitted;
  appendBatchSize.observe(appends);
  appendCommitSeconds.observe(seconds);
});

export const projectionLag = new Gauge({
  name: 'credits_projection_lag',
  help: "Log positions between the event store's head and each projection's checkpoint (events for the embedded store, bytes for EventStoreDB)",
  labelNames: ['projection'] as const,
  registers,
});

export const reactionLag = new Gauge({
  name: 'credits_reaction_lag',
  help: "Log positions between the event store's head and each reaction's checkpoint",
  labelNames: ['reaction'] as const,
  registers,
});

export const parkedReactionWork = new Gauge({
  name: 'credits_reaction_parked_work_items',
  help: 'Work items a reaction has set aside after failing to handle them, waiting for an operator',
  labelNames: ['reaction'] as const,
  registers,
});

export const stateCacheBytes = new Gauge({
  name: 'credits_state_cache_bytes',
  help: "Approximate bytes of the command side's workspace states kept in memory (bounded by STATE_CACHE_MB)",
  registers,
});

export const stateCacheWorkspaces = new Gauge({
  name: 'credits_state_cache_workspaces',
  help: 'Workspaces whose state the command side keeps in memory between commands',
  registers,
});

export const webhookDeliveries = new Counter({
  name: 'credits_webhook_deliveries_total',
  help: 'Webhook deliveries by provider and outcome (applied, ignored, refused, bad_signature, failed)',
  labelNames: ['provider', 'outcome'] as const,
  registers,
});

export const outboundWebhookAttempts = new Counter({
  name: 'credits_outbound_webhook_attempts_total',
  help: 'Attempts to deliver a webhook to a subscribed endpoint, by outcome (delivered, failed) and kind (event, test)',
  labelNames: ['outcome', 'kind'] as const,
  registers,
});

export const outboundWebhookLatency = new Histogram({
  name: 'credits_outbound_webhook_attempt_duration_seconds',
  help: 'Time of one attempt to deliver a webhook, from sending to the end of the answer, by outcome and kind',
  labelNames: ['outcome', 'kind'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});
