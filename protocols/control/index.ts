export * from './constants.ts'
export * from './messages.ts'
export * from './line-reader.ts'
