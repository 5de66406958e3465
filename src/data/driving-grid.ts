/**
 * A seeded synthetic driving dataset: 10x10 occupancy grids seen from the ego vehicle
 * (row 0 is farthest ahead, row 9 is the vehicle's own row). The ego vehicle sits in
 * rows 8-9 of its 2-column lane, drawn at 0.5; obstacles are 1x1 or 1x2 blocks of
 * occupancy 0.8-1.0 at random positions; every cell gets sensor noise (±0.08) and a few
 * free cells get weak false returns (0.2-0.4). The label is 1 when an obstacle cell lies in
 * the ego lane within the look-ahead (the LOOKAHEAD rows in front of the vehicle), else 0.
 */
import { mulberry32 } from './random.js';

export const GRID = 10;
/** Rows in front of the ego vehicle that count for the label (rows 2..7). */
export const LOOKAHEAD = 6;
const LANE_STARTS = [1, 4, 7];

export interface DrivingGrid {
  /** [n, 10, 10, 1] occupancies in [0, 1]. */
  x: Float32Array;
  /** 1 = obstacle ahead in the ego lane. */
  y: Int32Array;
}

export function generateDrivingGrid(n: number, seed: number): DrivingGrid {
  const rand = mulberry32(seed);
  const cells = GRID * GRID;
  const x = new Float32Array(n * cells);
  const y = new Int32Array(n);
  const occ = new Float32Array(cells);
  for (let s = 0; s < n; s++) {
    occ.fill(0);
    const lane = LANE_STARTS[Math.floor(rand() * LANE_STARTS.length)]!;
    const nearRow = GRID - 2 - 1;
    const farRow = nearRow - LOOKAHEAD + 1;
    // Obstacles anywhere ahead of the vehicle; about half the grids get one placed in the lane.
    const count = Math.floor(rand() * 4);
    const place = (r: number, c: number, wide: boolean): void => {
      for (let k = 0; k < (wide ? 2 : 1); k++) {
        if (c + k < GRID) occ[r * GRID + c + k] = 0.8 + 0.2 * rand();
      }
    };
    for (let k = 0; k < count; k++) place(Math.floor(rand() * (GRID - 2)), Math.floor(rand() * GRID), rand() < 0.5);
    if (rand() < 0.45) place(farRow + Math.floor(rand() * LOOKAHEAD), lane + Math.floor(rand() * 2), false);
    let hit = 0;
    for (let r = farRow; r <= nearRow && !hit; r++) {
      if (occ[r * GRID + lane]! > 0.5 || occ[r * GRID + lane + 1]! > 0.5) hit = 1;
    }
    for (let r = GRID - 2; r < GRID; r++) { occ[r * GRID + lane] = 0.5; occ[r * GRID + lane + 1] = 0.5; }
    const base = s * cells;
    for (let i = 0; i < cells; i++) {
      let v = occ[i]!;
      if (v === 0 && rand() < 0.04) v = 0.2 + 0.2 * rand();
      v += (rand() - 0.5) * 0.16;
      x[base + i] = Math.min(1, Math.max(0, v));
    }
    y[s] = hit;
  }
  return { x, y };
}
