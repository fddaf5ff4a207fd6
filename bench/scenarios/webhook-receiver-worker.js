// The webhooks bench's receiver, on a thread of its own so that it does not share the service's
// event loop: verifies every delivery with the standardwebhooks library and reports, per message,
// when it arrived (epoch ms, comparable across threads) and whether the signature held, in batches
// every few milliseconds so that the reports cost the service's thread little.
const { readFileSync } = require('node:fs');
const { createServer } = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { Webhook } = require('standardwebhooks');

let verifiers = new Map();
let reports = [];
const flush = () => {
  if (reports.length > 0) parentPort.postMessage({ received: reports });
  reports = [];
};
setInterval(flush, 10).unref();
const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const receivedAt = performance.timeOrigin + performance.now();
    const body = Buffer.concat(chunks).toString('utf8');
    const path = request.url;
    const verifier = verifiers.get(path);
    let verified = false;
    let message;
    try {
      message = verifier.verify(body, request.headers);
      verified = true;
    } catch {
      message = JSON.parse(body);
    }
    response.writeHead(204).end();
    reports.push({
      path,
      id: request.headers['webhook-id'],
      type: message.type,
      workspaceId: message.data.workspaceId,
      receivedAt,
      verified,
    });
  });
});
/**
 * The CPU time this thread has taken (seconds; Linux reports it per thread in /proc/thread-self, in
 * ticks of 10 ms), so that the bench can tell the receiver's share from the service's; null elsewhere.
 */
const ownCpuSeconds = () => {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
};
parentPort.on('message', (message) => {
  if (message.type === 'cpu') parentPort.postMessage({ cpuSeconds: ownCpuSeconds() });
  if (message.type === 'secrets')
    verifiers = new Map(Object.entries(message.secrets).map(([path, secret]) => [path, new Webhook(secret)]));
  if (message.type === 'stop') {
    flush();
    server.close(() => process.exit(0));
  }
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ listening: server.address().port, workerData }));
