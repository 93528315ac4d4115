import type { RpcMethods } from '../rpc/rpc-types.ts'

/** greeter.hello was asked something other than "Hello". */
export class UnknownGreetingError extends Error {
  override name = 'UnknownGreetingError'
}

/** The smallest rpc service, to see the mesh answer: "Hello" -> "World", from whichever peer answers. */
export function greeterMethods (): RpcMethods {
  return {
    hello: (args: unknown) => {
      if (args === 'Hello') return 'World'
      throw new UnknownGreetingError(`greeter.hello answers "Hello" only, got ${(JSON.stringify(args) ?? 'nothing').slice(0, 60)}`)
    }
  }
}
