/** A chat message or frame that fails validation. `reason` is a stable label for metrics. */
export class InvalidChatMessageError extends Error {
  override name = 'InvalidChatMessageError'
  readonly reason: string

  constructor (reason: string, message: string) {
    super(message)
    this.reason = reason
  }
}

/** A room name that cannot be a topic. */
export class InvalidRoomError extends Error {
  override name = 'InvalidRoomError'
}
