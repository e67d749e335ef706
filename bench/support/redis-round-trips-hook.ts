/**
 * Preloaded into a server process (`node --import=<this file>`) by the cost-per-operation scenario:
 * counts the writes the process makes on its sockets to Redis (`BENCH_REDIS_PORT`) and answers
 * the count as JSON on `http://127.0.0.1:$BENCH_ROUND_TRIPS_PORT/`.
 *
 * One write is one request sent to Redis: ioredis writes a single command with one `socket.write`
 * and a whole pipeline (MULTI/EXEC, auto-pipelining, `pipeline()`) as one concatenated buffer, so
 * the count is the number of times the server sends something and waits for Redis to answer.
 * Two writes issued concurrently count as two (an upper bound on the waits in sequence).
 */
import { createServer } from 'node:http';
import { Socket } from 'node:net';

const redisPort = Number(process.env.BENCH_REDIS_PORT);
const counterPort = Number(process.env.BENCH_ROUND_TRIPS_PORT);
if (!redisPort || !counterPort) throw new Error('BENCH_REDIS_PORT and BENCH_ROUND_TRIPS_PORT are required');

let writes = 0;
const write = Socket.prototype.write;
// Patching the prototype is the one place that sees every write of every ioredis connection
// (commands, pipelines, subscriptions) without touching the server's code.
Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
  if (this.remotePort === redisPort) writes++;
  return write.apply(this, args);
} as Socket['write'];

createServer((_request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ writes }));
})
  .listen(counterPort, '127.0.0.1')
  .unref();
