/**
 * The control protocol: newline-delimited JSON over a local socket (mode 0600, so only the
 * node's owner can drive it). The client sends one request; the node answers with one
 * `result` line, or with `event` lines ended by an `end` line for streams (`chat tail`),
 * or with an `error` line.
 */
export interface ControlRequest {
  v: number
  method: string
  params?: Record<string, unknown>
}

export type ControlResponse =
  | { result: unknown }
  | { event: unknown }
  | { end: true }
  | { error: { name: string, message: string } }
