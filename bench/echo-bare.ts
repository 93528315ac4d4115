/**
 * The ceiling for bench/echo.ts: the least a Node echo server can be (node:net, one loop,
 * every chunk written back), with the socket options `mesh echo` uses. Prints its port.
 *
 *   node bench/echo-bare.ts PORT
 */
import { createServer } from 'node:net'

const server = createServer({ noDelay: true }, socket => {
  socket.on('data', chunk => { socket.write(chunk) })
  socket.on('error', () => {})
})
server.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0), backlog: 4096 }, () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`)
})
