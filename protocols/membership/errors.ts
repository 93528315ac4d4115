/** A membership message that fails validation. `reason` is a stable label for metrics. */
export class InvalidMembershipMessageError extends Error {
  override name = 'InvalidMembershipMessageError'
  readonly reason: string

  constructor (reason: string, message: string) {
    super(message)
    this.reason = reason
  }
}
