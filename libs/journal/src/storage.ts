/**
 * The I/O seam. The journal is "sans-IO": it never touches the file system, clocks or
 * timers itself, and does all of its reading and writing through a LogStorage. That is
 * what lets the same journal code run on real files (FsLogStorage in
 * @txtest/storage-fs), in memory for unit tests (MemoryLogStorage) and inside a
 * deterministic simulator that injects crashes, torn writes and I/O errors.
 *
 * A LogStorage is one flat directory of named files. Names are plain file names (no
 * slashes). The journal only looks at names it recognizes (segments and snapshots), so
 * other components may keep their own files in the same directory.
 */
export interface LogStorage {
  /** File names in the log directory, in no particular order. Temporary files are not listed. */
  list(): Promise<string[]>;
  /** The whole content of a file. Rejects if it does not exist. */
  read(name: string): Promise<Uint8Array>;
  /**
   * Up to `length` bytes of a file from byte `offset` (fewer at its end, none past it),
   * so that a large file (a snapshot streamed to a joining standby) is read a window at
   * a time instead of whole. Rejects if the file does not exist.
   */
  readAt(name: string, offset: number, length: number): Promise<Uint8Array>;
  /**
   * Overwrites `bytes.length` bytes of an existing file at byte `offset` (which must lie
   * within the file, and may extend it), so that a file written front to back can have
   * its header filled in last (a snapshot streamed to disk as it is encoded). Like an
   * append, it is durable only after a `sync` of the file: until then a crash may leave
   * the old bytes, the new ones or (on a power loss) a file cut short before `offset`.
   * Rejects if the file does not exist or `offset` is past its end.
   */
  writeAt(name: string, offset: number, bytes: Uint8Array): Promise<void>;
  /** Opens a file for appending, creating it (empty) if it is missing. */
  openAppend(name: string): Promise<AppendHandle>;
  /**
   * Cuts a file down to `size` bytes, durably: when this resolves, a crash cannot bring
   * the dropped bytes back. Used for torn-tail repair and reconciliation.
   */
  truncate(name: string, size: number): Promise<void>;
  /** Deletes a file, durably. Removing a file that does not exist is not an error. */
  remove(name: string): Promise<void>;
  /**
   * Renames `from` to `to` (replacing `to` if it exists), durably: a crash leaves one
   * of the two names. Used to put a snapshot received in pieces in place once verified.
   */
  rename(from: string, to: string): Promise<void>;
  /**
   * Replaces (or creates) a file so that after a crash it holds either the old content
   * or all of `chunks`, never a mix: write a temporary file, fsync it, rename it over
   * `name`, fsync the directory.
   */
  writeAtomic(name: string, chunks: Uint8Array[]): Promise<void>;
}

/** An open file being appended to. */
export interface AppendHandle {
  /** Bytes in the file, including everything appended through this handle. */
  readonly size: number;
  /**
   * Appends all chunks at the end of the file with ONE write call (writev), so a group of
   * records costs one system call however many records it holds.
   */
  append(chunks: Uint8Array[]): Promise<void>;
  /**
   * Makes everything appended before this call durable (fdatasync). Data appended while
   * the sync runs may or may not be covered.
   */
  sync(): Promise<void>;
  /** Closes the handle. It does not sync; call `sync()` first if that matters. */
  close(): Promise<void>;
}
