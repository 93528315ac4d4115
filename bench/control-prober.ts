// A worker thread of `bench:hostile`: asks a node's control socket for its id every 100 ms
// and keeps the slowest answer. It has a thread of its own so that the attacker, which runs
// on the bench's main thread, cannot delay the prober and pass its own stall off as the
// node's. The main thread posts 'take' and gets the slowest answer since the last 'take'.
import { parentPort, workerData } from 'node:worker_threads'
import { callNode } from '../cli/control-client.ts'
import { sleep } from '../test/utils/wait.ts'

const { home } = workerData as { home: string }
let slowestMs = 0
let running = true
parentPort?.on('message', (message: string) => {
  if (message === 'take') { parentPort?.postMessage(slowestMs); slowestMs = 0 }
  if (message === 'stop') running = false
})
while (running) {
  const t0 = performance.now()
  await callNode(home, 'id').catch(() => {})
  slowestMs = Math.max(slowestMs, performance.now() - t0)
  await sleep(100)
}
parentPort?.close()
