// Preloaded with `node --import` by tests that check what a command loads: appends the URL of
// every module it loaded (ESM, CommonJS and node: builtins, dynamic imports included), one a
// line, to the file MESH_MODULE_LOG names; a worker thread (which runs the preload too) to
// that name followed by `.thread-<threadId>`.
import { appendFileSync } from 'node:fs'
import { registerHooks } from 'node:module'
import { isMainThread, threadId } from 'node:worker_threads'

const log = process.env.MESH_MODULE_LOG
if (log != null && log !== '') {
  const file = isMainThread ? log : `${log}.thread-${threadId}`
  // Line by line as modules load: a terminated worker never sees its exit event.
  appendFileSync(file, '')
  registerHooks({
    load (url, context, next) {
      appendFileSync(file, url + '\n')
      return next(url, context)
    }
  })
}
