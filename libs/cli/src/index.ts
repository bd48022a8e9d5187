export * from './command-line';
export { parseDuration } from './convert';
export * from './errors';
export { refused } from './flags';
export type * from './flags';
export { helpText } from './help';
export * from './parse';
export { version } from './version';
export * from './cluster-key-file';
