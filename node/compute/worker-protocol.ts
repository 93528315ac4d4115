/** Messages between the worker pool and its threads (structured clone: bigint is fine). */
export interface WorkerRequest {
  id: number
  task: string
  input: unknown
}

export type WorkerReply =
  | { id: number, kind: 'progress', value: unknown }
  | { id: number, kind: 'done', value: unknown }
  | { id: number, kind: 'error', name: string, message: string }

/** What a task sees besides its input. */
export interface TaskContext {
  /** Sends a progress value to the caller's onProgress. */
  progress: (value: unknown) => void
}

export type WorkerTask = (input: any, context: TaskContext) => unknown
