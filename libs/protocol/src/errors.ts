/** The error codes of PROTOCOL.md section 7, and the one shape every error reply has. */

export const ERROR_CODES = [
  'BAD_REQUEST',
  'TOO_LARGE',
  'UNKNOWN_MODEL',
  'MODEL_MISMATCH',
  'UNKNOWN_OP',
  'BAD_ARGS',
  'REJECTED',
  'ID_CONFLICT',
  'NOT_PRIMARY',
  'OVERLOADED',
  'NOT_FOUND',
  'WRONG_SHARD',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  code: ErrorCode;
  /** A human sentence naming the field or limit at fault. */
  message: string;
}

export interface ErrorReply {
  id?: string;
  ok: false;
  error: ErrorBody;
}

export function errorReply(code: ErrorCode, message: string, id?: string): ErrorReply {
  return id === undefined ? { ok: false, error: { code, message } } : { id, ok: false, error: { code, message } };
}

/** Codes after which a client may retry the same request id unchanged. */
export function isRetryable(code: string): boolean {
  return code === 'NOT_PRIMARY' || code === 'OVERLOADED';
}

/** Thrown by the client library when a request ends in an error it does not retry. */
export class TxError extends Error {
  override readonly name = 'TxError';
  constructor(
    readonly code: ErrorCode | 'TIMEOUT',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
