/**
 * The cluster key file (`--cluster-key-file`, docs/SECURITY.md): one key per line, at
 * least 32 bytes each (e.g. `openssl rand -hex 32`); the first signs what this node
 * sends and every one is accepted, which is how a key is rotated. Blank lines and lines
 * starting with # are ignored. A file anyone but its owner may open is refused: the key
 * is what stands between an ordinary NATS user and the pair's roles and data.
 */
import { readFileSync, statSync } from 'node:fs';
import { ValueError } from './errors';

export const CLUSTER_KEY_BYTES_MIN = 32;

/** The keys in the file, or a ValueError naming what is wrong (the flag parser prefixes the flag). */
export function readClusterKeyFile(path: string): Uint8Array[] {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValueError(`cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if ((mode & 0o077) !== 0)
    throw new ValueError(
      `"${path}" is open to group or others (mode ${(mode & 0o777).toString(8)}): a cluster key must be private to its owner (chmod 600 "${path}")`,
    );
  const keys = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => Buffer.from(l, 'utf8'));
  if (keys.length === 0)
    throw new ValueError(`"${path}" holds no key (one per line, at least ${CLUSTER_KEY_BYTES_MIN} bytes, e.g. the output of openssl rand -hex 32)`);
  keys.forEach((k, i) => {
    if (k.length < CLUSTER_KEY_BYTES_MIN)
      throw new ValueError(
        `the key on line ${i + 1} of "${path}" is ${k.length} bytes; at least ${CLUSTER_KEY_BYTES_MIN} are needed (e.g. the output of openssl rand -hex 32)`,
      );
  });
  return keys;
}
