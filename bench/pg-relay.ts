/**
 * A TCP relay that holds every reply from PostgreSQL for a while before passing it on: the database
 * as seen from a server on another machine (pg-load's BENCH_PG_RTT_MS). Run as its own process, so
 * the load generator's busy event loop does not stretch the delay:
 * `node pg-relay.js <target port> <delay ms>`; it prints `{"port": N}` once it listens on 127.0.0.1.
 * Requests pass at once; replies wait `delay` ms (Node's timers: whole milliseconds), in order.
 */
import net from 'node:net';

const [targetPort, delayMs] = process.argv.slice(2).map(Number);
if (!Number.isInteger(targetPort) || targetPort! < 1 || targetPort! > 65535 || !(delayMs! >= 0)) {
  console.error('usage: node pg-relay.js <target port> <delay ms>');
  process.exit(2);
}

const server = net.createServer((client) => {
  const upstream = net.connect(targetPort!, '127.0.0.1');
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  const done = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', done).on('close', done);
  upstream.on('error', done).on('close', done);
  client.pipe(upstream);
  // Timers of one duration fire in the order they were set: replies keep their order.
  upstream.on('data', (chunk: Buffer) => setTimeout(() => client.write(chunk), delayMs));
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as net.AddressInfo).port })));
process.on('SIGTERM', () => process.exit(0));
