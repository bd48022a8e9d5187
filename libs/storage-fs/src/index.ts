/**
 * @txtest/storage-fs: the file-system adapters behind the journal's storage seams.
 */
export { FsLogStorage } from './fs-log-storage';
export * from './fs-epoch-storage';
