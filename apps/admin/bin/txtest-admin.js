#!/usr/bin/env node
// Runs the TypeScript entry point in this same process (no build step, no child process).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
