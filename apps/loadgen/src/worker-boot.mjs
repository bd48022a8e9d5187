// Entry of a loadgen worker thread: registers tsx in this thread (as bin/txtest-loadgen.js
// does for the main thread), then runs the TypeScript worker. Works whether the parent
// runs under the bin, tsx or vitest, since it does not rely on inherited loader hooks.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
