/**
 * The repository stands alone (docs/CONTRIBUTING.md, habit 16): no file in it may point
 * at the design notes kept outside it on the development machine, or at anything else
 * beside the repository, since a reader of the project never sees them. The reasons
 * the code relies on are written down in docs/ instead (docs/DECISIONS.md).
 *
 * The one exception is the machine's shared peer benchmark, which lives outside the
 * repository and is run from there: the benchmark tools that run it, and the command
 * in docs/BENCHMARKS.md that reproduces it, may name its path, and nothing else.
 *
 * Every pattern below is written so that it does not match its own source text (an
 * escaped dot, a slash or a letter in brackets), so this file is checked like any other.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** References to what lies outside the repository, each with what it names. */
const OUTSIDE: { pattern: RegExp; what: string }[] = [
  { pattern: /DESIGN\.md/, what: 'the outside design note' },
  { pattern: /ORIGINAL-DESIG[N]/, what: 'the outside original design note' },
  { pattern: /STYLE\.md/, what: 'the outside style note' },
  { pattern: /TOOLCHAIN\.md/, what: 'the outside toolchain note' },
  { pattern: /\.\.\/shared\b/, what: 'the shared folder beside the repository' },
  { pattern: /shared\//, what: 'a shared folder outside the repository' },
];

/** The shared peer benchmark's path: the only outside reference an allowed file may make. */
const SHARED_BENCH = /\.\.\/shared\/bench\/[\w./-]*/g;

/** Files that run (or give the command that runs) the shared benchmark, and why. */
const BENCH_ALLOWED: Record<string, string> = {
  'tools/bench/sitting.sh': 'copies and runs the shared peer benchmark before the sitting',
  'docs/BENCHMARKS.md': 'gives the command that reproduces the shared peer benchmark',
};

interface OutsideReference {
  file: string;
  line: number;
  /** What the line names outside the repository (several joined by "and"). */
  what: string;
  text: string;
}

/** The lines of one file's text that refer outside the repository; in an allowed file the shared benchmark's path is excused. */
function outsideReferences(file: string, text: string): OutsideReference[] {
  const allowed = file in BENCH_ALLOWED;
  const out: OutsideReference[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = allowed ? raw.replace(SHARED_BENCH, '') : raw;
    const hits = OUTSIDE.filter((o) => o.pattern.test(line));
    if (hits.length > 0) out.push({ file, line: i + 1, what: hits.map((o) => o.what).join(' and '), text: raw.trim() });
  });
  return out;
}

/** The files git tracks, and those it would track (not ignored), as paths from the root. */
function repositoryFiles(): string[] {
  let listing: string;
  try {
    listing = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  } catch (err) {
    throw new Error(`cannot list the repository's files with git ls-files in ${ROOT} (not a git checkout?)`, { cause: err });
  }
  return [...new Set(listing.split('\0').filter((f) => f !== '' && !f.split('/').includes('node_modules')))];
}

/** A file's text, or null when it is binary (a NUL byte) or listed but deleted in the work tree. */
function textOf(file: string): string | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(`${ROOT}${file}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return bytes.includes(0) ? null : bytes.toString('utf8');
}

function describeRef(r: OutsideReference): string {
  return `${r.file}:${r.line}: names ${r.what}: ${r.text}`;
}

describe('the repository is self-contained', () => {
  it('no file in the repository points at a file outside it (docs/ holds the reasons instead)', () => {
    const files = repositoryFiles();
    expect(files.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const file of files) {
      const text = textOf(file);
      if (text !== null) found.push(...outsideReferences(file, text).map(describeRef));
    }
    expect(found).toEqual([]);
  });

  it('every file allowed to run the shared benchmark exists and still names it (else drop it from the list)', () => {
    for (const file of Object.keys(BENCH_ALLOWED)) {
      const text = textOf(file);
      expect(text, `${file} is allowed but missing`).not.toBeNull();
      expect(text!.match(SHARED_BENCH), `${file} no longer names the shared benchmark`).not.toBeNull();
    }
  });

  it('the check catches every kind of outside reference, in any file, also beside an allowed benchmark path', () => {
    // Built at run time so that this file's own text holds none of them.
    const up = '..';
    const samples = [
      `see ${'DESIGN'}.md section 2`,
      `the scenarios of ${'ORIGINAL'}-${'DESIGN'}.md`,
      `habit 4 of ${'STYLE'}.md`,
      `as ${'TOOLCHAIN'}.md says`,
      `cat ${up}/${'shared'}/notes.txt`,
      `/work/${'shared'}/hooks`,
      `cp -r ${up}/${'shared'}/bench/peers /tmp/x`,
    ];
    for (const s of samples) {
      expect(outsideReferences('libs/cluster/src/x.ts', `/**\n * ${s}\n */`), s).not.toEqual([]);
    }
    const bench = `cp -r ${up}/${'shared'}/bench/peers /tmp/peerbench && ./run.sh`;
    expect(outsideReferences('docs/BENCHMARKS.md', bench)).toEqual([]);
    const mixed = outsideReferences('docs/BENCHMARKS.md', `${bench}\nrationale: ${'DESIGN'}.md`);
    expect(mixed.map((r) => [r.line, r.what])).toEqual([[2, 'the outside design note']]);
  });
});
