// The webhooks bench's receiver, on a thread of its own so that it does not share the service's
// event loop: verifies every delivery with the standardwebhooks library and reports, per message,
// when it arrived (epoch ms, comparable across threads) and whether the signature held, in batches
// every few milliseconds so that the reports cost the service's thread little.
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
parentPort.on('message', (message) => {
  if (message.type === 'secrets')
    verifiers = new Map(Object.entries(message.secrets).map(([path, secret]) => [path, new Webhook(secret)]));
  if (message.type === 'stop') {
    flush();
    server.close(() => process.exit(0));
  }
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ listening: server.address().port, workerData }));
