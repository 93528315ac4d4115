import { COUNT_METHODS, type CountMethod } from '../../node/jobs/count-method.ts'
import { UsageError } from '../errors.ts'

export { chooseMethod, COUNT_METHODS, type CountMethod } from '../../node/jobs/count-method.ts'

export function parseMethod (value: string | undefined): CountMethod | undefined {
  if (value === undefined) return undefined
  if ((COUNT_METHODS as readonly string[]).includes(value)) return value as CountMethod
  throw new UsageError(`--method must be one of ${COUNT_METHODS.join(', ')}`)
}
