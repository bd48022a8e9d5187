#!/usr/bin/env node
// Runs the simulator's TypeScript CLI in this same process (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
