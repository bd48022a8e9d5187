/**
 * A string that holds only its own characters. The MessagePack decoder (msgpackr with
 * its native string extractor) reads a run of short strings as one string and returns
 * slices of it; V8 represents a slice of 13 or more characters as a view that keeps the
 * whole run alive. A request id kept for exactly-once, or an asset id kept by its actor,
 * would then hold on to every string of the message it came in: measured, about 80 bytes
 * per remembered id. Copying the few strings a node keeps for long costs ~0.1 µs each.
 */
const SLICE_MIN_LENGTH = 13;

export function ownString(s: string): string {
  if (s.length < SLICE_MIN_LENGTH) return s; // shorter slices are copies already
  for (let i = 0; i < s.length; i++) {
    // Not one byte per character: UTF-8 round trip (rare: ids are usually ASCII).
    if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8').toString('utf8');
  }
  return Buffer.from(s, 'latin1').toString('latin1');
}
