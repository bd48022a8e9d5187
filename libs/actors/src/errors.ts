/** Errors of the actors lib, one class each. */

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class RecordApplyError extends Error {
  override readonly name = 'RecordApplyError';
  constructor(
    message: string,
    readonly seq: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
