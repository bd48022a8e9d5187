/** Limits of the public protocol (PROTOCOL.md sections 2 and 3). */

/** Default maximum body size in bytes, as sent over NATS, headers excluded. */
export const BODY_BYTES_MAX = 64 * 1024;
/** Maximum entries in one `{ batch: [...] }` request. */
export const BATCH_ENTRIES_MAX = 1024;
/** Maximum UTF-8 bytes of a request id. */
export const ID_BYTES_MAX = 128;
/** Maximum characters of an asset id. */
export const ASSET_CHARS_MAX = 128;
/** Maximum nesting depth of any value in a request; deeper is BAD_REQUEST. */
export const VALUE_DEPTH_MAX = 32;
