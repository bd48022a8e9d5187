/**
 * Builds @txtest/client as a package an application outside the repository installs
 * (docs/CONTRIBUTING.md, "The client package"): JavaScript bundled by esbuild (the
 * protocol library inlined, NATS and msgpackr left as dependencies), type declarations
 * from tsc with their imports made relative, a package.json and README, then `npm pack`.
 * Prints the tarball's path. Run: npx tsx libs/client/scripts/package.ts [--out DIR]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const { values } = parseArgs({ options: { out: { type: 'string', default: join(ROOT, 'tmp/client-package') } } });
const out = resolve(values.out!);
const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
/** What the bundle imports at run time and does not inline. */
const EXTERNAL = ['@nats-io/nats-core', 'msgpackr'];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(ROOT, 'libs/client/src/index.ts')],
  outfile: join(out, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  legalComments: 'none',
  logLevel: 'warning',
});

// Declarations: tsc writes libs/{client,protocol}/src/*.d.ts under types/; specifiers are
// made what Node's resolution (node16 and later) accepts: relative, with extensions.
execFileSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'libs/client/tsconfig.dist.json'), '--outDir', join(out, 'types')],
  { stdio: 'inherit' },
);
const types = join(out, 'types');
for (const file of walk(types)) {
  if (!file.endsWith('.d.ts')) continue;
  const protocol = relative(dirname(file), join(types, 'protocol/src/index.js'));
  const text = readFileSync(file, 'utf8')
    .replace(/(from |import\()'@txtest\/protocol'/g, `$1'${protocol.startsWith('.') ? protocol : `./${protocol}`}'`)
    .replace(/(from |import\()'(\.{1,2}\/[^']+?)(?<!\.js)'/g, "$1'$2.js'");
  writeFileSync(file, text);
}

const pkg = {
  name: '@txtest/client',
  version: rootPkg.version,
  description: 'TxTest client: exactly-once updates to a hot-standby TxTest pair over NATS, retried across failover.',
  type: 'module',
  exports: { '.': { types: './types/client/src/index.d.ts', default: './index.js' } },
  types: './types/client/src/index.d.ts',
  engines: { node: '>=20.19' },
  dependencies: Object.fromEntries(EXTERNAL.map((d) => [d, rootPkg.dependencies[d]!])),
  license: 'UNLICENSED',
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
copyFileSync(join(ROOT, 'libs/client/README.md'), join(out, 'README.md'));
const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: out, encoding: 'utf8' }).trim().split('\n').at(-1)!;
console.log(join(out, tarball));

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}
