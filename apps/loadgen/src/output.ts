/** Where a finished report goes: the table (stdout), --json FILE ("-": stdout), --html FILE. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LoadgenArgs } from './args';
import type { RunReport } from './report';
import { reportHtml } from './report-html';
import { reportTable } from './report-table';

export function reportJson(r: RunReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

export function emitReport(a: Pick<LoadgenArgs, 'jsonFile' | 'htmlFile'>, r: RunReport, stdout: NodeJS.WritableStream = process.stdout): void {
  if (a.jsonFile === '-') stdout.write(`${JSON.stringify(r)}\n`);
  else {
    stdout.write(reportTable(r));
    if (a.jsonFile !== null) write(a.jsonFile, reportJson(r));
  }
  if (a.htmlFile !== null) write(a.htmlFile, reportHtml(r));
}
