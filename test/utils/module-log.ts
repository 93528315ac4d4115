// Preloaded with `node --import` by tests that check what a command loads: writes the URL of
// every module it loaded (ESM, CommonJS and node: builtins, dynamic imports included), one a
// line, to the file MESH_MODULE_LOG names, when the process exits.
import { writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const file = process.env.MESH_MODULE_LOG
if (file != null && file !== '') {
  const loaded: string[] = []
  registerHooks({
    load (url, context, next) {
      loaded.push(url)
      return next(url, context)
    }
  })
  process.on('exit', () => { writeFileSync(file, loaded.join('\n') + '\n') })
}
