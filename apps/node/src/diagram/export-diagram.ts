#!/usr/bin/env node
/**
 * Writes the role machine's diagram as SVG, from the same code the visualizer page
 * uses: `npx tsx apps/node/src/diagram/export-diagram.ts apps/node/src/visualizer/role-machine.svg`
 * (or `npx nx run node:diagram`). With no path it writes to stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { roleDiagramSvg } from './render-svg';

const out = process.argv[2];
const svg = `${await roleDiagramSvg()}\n`;
if (out === undefined || out === '-') process.stdout.write(svg);
else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, svg);
  process.stderr.write(`export-diagram: wrote ${out} (${svg.length} bytes)\n`);
}
