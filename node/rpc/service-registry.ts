import { MAX_METHOD_NAME_LENGTH, MAX_SERVICE_NAME_LENGTH, NAME_PATTERN, UnknownMethodError, UnknownServiceError } from '../../protocols/rpc/index.ts'
import type { RpcHandler, RpcMethods, RpcServiceOptions } from './rpc-types.ts'

export interface RegisteredMethod {
  key: string
  handler: RpcHandler
  idempotent: boolean
  /** Synchronous and bounded: a local call runs it inline (RpcServiceOptions.inline). */
  inline: boolean
}

/**
 * The services this node serves. Registering one adds `service.method` for each of its
 * methods to the advertised set (the heartbeat's `services`), so discovery is per method:
 * a caller finds exactly the peers that can answer `calc.sum`, even across versions that
 * add methods.
 */
export class ServiceRegistry {
  private readonly services = new Map<string, Map<string, RegisteredMethod>>()
  private readonly advertised: Set<string>
  /** Idempotency of methods this node knows of, served here or not (same binary, same code). */
  private readonly known = new Map<string, boolean>()

  constructor (advertised: Set<string>) {
    this.advertised = advertised
  }

  register (service: string, methods: RpcMethods, options: RpcServiceOptions = {}): void {
    checkName(service, 'service', MAX_SERVICE_NAME_LENGTH)
    if (this.services.has(service)) throw new TypeError(`service ${service} is already registered`)
    const entries = Object.entries(methods)
    if (entries.length === 0) throw new TypeError(`service ${service} has no methods`)
    const inline = new Set(options.inline ?? [])
    for (const method of inline) {
      if (!Object.hasOwn(methods, method)) throw new TypeError(`${service}.${method} is marked inline but is not a method`)
    }
    const table = new Map<string, RegisteredMethod>()
    for (const [method, handler] of entries) {
      checkName(method, 'method', MAX_METHOD_NAME_LENGTH)
      if (typeof handler !== 'function') throw new TypeError(`${service}.${method} must be a function`)
      table.set(method, { key: `${service}.${method}`, handler, idempotent: options.idempotent === true, inline: inline.has(method) })
    }
    this.services.set(service, table)
    for (const m of table.values()) {
      this.advertised.add(m.key)
      this.known.set(m.key, m.idempotent)
    }
  }

  /** The method, or UnknownServiceError / UnknownMethodError. */
  lookup (service: string, method: string): RegisteredMethod {
    const table = this.services.get(service)
    if (table == null) throw new UnknownServiceError(`no service ${service} on this node`)
    const entry = table.get(method)
    if (entry == null) throw new UnknownMethodError(`service ${service} has no method ${method} (it has ${[...table.keys()].join(', ')})`)
    return entry
  }

  /**
   * Records that `service.method` is (or is not) idempotent without serving it, so a node
   * that does not offer a service still retries calls to it correctly.
   */
  noteIdempotency (service: string, methods: readonly string[], idempotent: boolean): void {
    for (const method of methods) this.known.set(`${service}.${method}`, idempotent)
  }

  /** Whether the method may run twice, as far as this node's code knows. */
  idempotent (service: string, method: string): boolean | undefined {
    return this.known.get(`${service}.${method}`)
  }
}

function checkName (value: string, what: string, maxLength: number): void {
  if (typeof value !== 'string' || value.length > maxLength || !NAME_PATTERN.test(value)) {
    throw new TypeError(`${what} name ${JSON.stringify(value)} must be 1 to ${maxLength} characters of a-z, 0-9, _ and -, starting with a letter`)
  }
}
