// Entry point of every worker thread of the pool: runs the named task and replies.
import { parentPort } from 'node:worker_threads'
import type { WorkerReply, WorkerRequest } from './worker-protocol.ts'
import { WORKER_TASKS } from './worker-tasks.ts'

const port = parentPort
if (port == null) throw new Error('worker-entry.ts runs inside a worker thread')

port.on('message', async (request: WorkerRequest) => {
  const { id } = request
  const reply = (message: WorkerReply): void => { port.postMessage(message) }
  try {
    const task = Object.hasOwn(WORKER_TASKS, request.task) ? WORKER_TASKS[request.task] : undefined
    if (task == null) throw new Error(`unknown worker task "${request.task}"`)
    const value = await task(request.input, { progress: (v) => { reply({ id, kind: 'progress', value: v }) } })
    reply({ id, kind: 'done', value })
  } catch (err: any) {
    reply({ id, kind: 'error', name: String(err?.name ?? 'Error'), message: String(err?.message ?? err) })
  }
})
