/**
 * The V8 heap at a million assets: how far the old space may grow, and a full
 * collection on demand.
 *
 * Growth: after each full GC V8 lets the old space grow to a factor of the live heap it
 * picks itself (up to 4x). At a million accounts that left 100-120 MB of old space free
 * on an idle node, a fifth of its RSS. 50% keeps it near 60 MB, with full GCs a little
 * more often while the state grows; 20% went further (40 MB) but its full GCs came so
 * close together while a snapshot was encoded that the pauses reached 250 ms, past the
 * peer timeout (docs/BENCHMARKS.md has the sittings). The cap applies to large heaps
 * only (HeapGrowth).
 *
 * Collection on demand, for the one moment a pause costs nothing: a recovery that
 * replays half a million records leaves a million live actors among as much garbage.
 * Left to V8's heuristics, that garbage is collected by major GCs over the next
 * seconds, each a pause of 50-150 ms at that size: the node is standby by then, and a
 * pause during a failover adds to its gap. Collected once at the end of the recovery,
 * before the node takes a role, it costs one pause nobody waits for.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Live heap from which the growth is capped: below it V8's own factor is kept. */
export const HEAP_GROWTH_FROM_BYTES = 128 * 2 ** 20;

/**
 * The old space's growth past the live heap, in percent (0 leaves it to V8), applied
 * only while the heap in use is large. A small heap capped at 50% is collected so often
 * that a pair over 10,000 accounts lost a fifth of its throughput at 1,024 in flight;
 * the headroom only matters in bytes when the heap is large. `check` takes the heap in
 * use (`watch` calls it every second); the cap is lifted again below half the threshold.
 */
export class HeapGrowth {
  private capped = false;

  constructor(
    private readonly percent: number,
    private readonly fromBytes = HEAP_GROWTH_FROM_BYTES,
  ) {}

  get isCapped(): boolean {
    return this.capped;
  }

  /** Checks the heap every second for the life of the process. */
  watch(): void {
    setInterval(() => this.check(v8.getHeapStatistics().used_heap_size), 1000).unref();
  }

  check(heapUsedBytes: number): void {
    if (this.percent === 0) return;
    const want = this.capped ? heapUsedBytes >= this.fromBytes / 2 : heapUsedBytes >= this.fromBytes;
    if (want === this.capped) return;
    this.capped = want;
    // Read by V8 at every full GC, so a change at run time takes effect from the next one.
    v8.setFlagsFromString(`--heap-growing-percent=${want ? this.percent : 0}`);
  }
}

let gc: (() => void) | null = null;

/** Runs the collection; returns its duration in ms and the heap in use before and after. */
export function collectGarbage(): { ms: number; heapBeforeMiB: number; heapAfterMiB: number } {
  if (gc === null) {
    // `gc` exists only with --expose-gc; set at run time, it is installed in new contexts.
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  // Without arguments: a full, synchronous collection (on Node 20 the options forms
  // `{ type: 'major' }` only finish what concurrent marking started, in a few ms).
  gc();
  const mib = (b: number) => Math.round(b / 2 ** 20);
  return { ms: Math.round(performance.now() - t0), heapBeforeMiB: mib(before), heapAfterMiB: mib(process.memoryUsage().heapUsed) };
}
