/**
 * rpc messages, one JSON object per frame. A caller opens a stream (or reuses one) and
 * sends requests with ids of its choosing; the server answers each id with one `result`,
 * one `error`, or for streamed methods any number of `item`s followed by `end` (or an
 * `error`). Answers to different ids may interleave; the protocol id carries the version.
 */

export interface RpcRequest {
  type: 'request'
  id: number
  service: string
  method: string
  /** Any JSON value; each method validates its own. */
  args: unknown
  /** Budget in ms from when the server reads the request (relative, so clocks need not agree). */
  deadlineMs: number
}

/** The caller no longer wants the answer to `id`: the server aborts the handler's signal. */
export interface RpcCancel {
  type: 'cancel'
  id: number
}

export interface RpcResult {
  type: 'result'
  id: number
  result: unknown
}

/** One element of a streamed answer. */
export interface RpcItem {
  type: 'item'
  id: number
  value: unknown
}

/** The streamed answer to `id` is complete. */
export interface RpcEnd {
  type: 'end'
  id: number
}

export interface RpcErrorBody {
  name: string
  message: string
}

export interface RpcErrorReply {
  type: 'error'
  id: number
  error: RpcErrorBody
}

/** What a caller sends. */
export type RpcClientMessage = RpcRequest | RpcCancel
/** What a server sends. */
export type RpcServerMessage = RpcResult | RpcItem | RpcEnd | RpcErrorReply
export type RpcMessage = RpcClientMessage | RpcServerMessage
