/**
 * Arena planner: places buffers with known lifetimes [firstUse, lastUse] (op indices,
 * inclusive) in one arena so that buffers alive at the same time never overlap.
 *
 * Algorithm (greedy by size, as TFLite Micro's GreedyMemoryPlanner): take buffers from
 * largest to smallest; put each at the lowest aligned offset where it does not overlap
 * any already placed buffer whose lifetime intersects its own. Ties in size keep the
 * order in which buffers were added, so plans are deterministic.
 */
export interface PlannedBuffer {
  size: number;
  firstUse: number;
  lastUse: number;
  offset: number;
}

export class ArenaPlanner {
  private readonly buffers: PlannedBuffer[] = [];
  private planned = false;
  private total = 0;

  constructor(private readonly alignment = 16) {}

  /** Adds a buffer and returns its id. */
  addBuffer(size: number, firstUse: number, lastUse: number): number {
    if (this.planned) throw new Error('ArenaPlanner: addBuffer after planning');
    if (lastUse < firstUse) throw new Error(`ArenaPlanner: lastUse ${lastUse} < firstUse ${firstUse}`);
    this.buffers.push({ size: Math.max(0, size), firstUse, lastUse, offset: -1 });
    return this.buffers.length - 1;
  }

  offsetOf(id: number): number {
    this.plan();
    return this.buffers[id]!.offset;
  }

  totalBytes(): number {
    this.plan();
    return this.total;
  }

  private plan(): void {
    if (this.planned) return;
    this.planned = true;
    const a = this.alignment;
    const order = this.buffers.map((_, i) => i).sort((x, y) => this.buffers[y]!.size - this.buffers[x]!.size || x - y);
    // Placed buffers kept sorted by offset (equal offsets in placement order), so each new
    // buffer scans the gaps between the ones whose lifetimes intersect its own in one pass,
    // without filtering and sorting a copy per buffer (models with hundreds of ops).
    const placed: PlannedBuffer[] = [];
    for (const id of order) {
      const b = this.buffers[id]!;
      const size = align(b.size, a);
      let candidate = 0;
      // Index loops (here and below): before the engine optimizes this code, for...of
      // allocates an iterator result per step, and this loop is quadratic in the buffers.
      for (let j = 0; j < placed.length; j++) {
        const p = placed[j]!;
        if (p.firstUse > b.lastUse || b.firstUse > p.lastUse) continue;
        if (candidate + size <= p.offset) break;
        candidate = Math.max(candidate, align(p.offset + p.size, a));
      }
      b.offset = candidate;
      let lo = 0, hi = placed.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (placed[mid]!.offset <= candidate) lo = mid + 1; else hi = mid;
      }
      placed.splice(lo, 0, b);
      this.total = Math.max(this.total, candidate + size);
    }
  }
}

export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
