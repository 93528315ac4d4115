/** The address is taken by another server. */
export class PortInUseError extends Error {
  override name = 'PortInUseError'
}

/** The server could not start for another reason (a child or worker failed). */
export class EchoStartError extends Error {
  override name = 'EchoStartError'
}

/** A listen error turned into a one-line reason that names the address. */
export function listenError (err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') return new PortInUseError(`port ${port} on ${host} is in use`)
  if (err.code === 'EACCES') return new EchoStartError(`no permission to listen on port ${port} on ${host}`)
  if (err.code === 'EADDRNOTAVAIL') return new EchoStartError(`${host} is not an address of this machine`)
  return new EchoStartError(`cannot listen on ${host}:${port}: ${err.message}`)
}
