// Kernels of the shape family: data movement and reductions.
// Prepare steps and record layouts: src/runtime/ops/shape.ts.
import { w, wp } from '../fixedpoint';

// 501 COPY: [src, dst, bytes]
function copy(p: usize): void {
  memory.copy(wp(p, 1), wp(p, 0), <usize>w(p, 2));
}

// Returns false for an id this family does not know.
export function runShape(id: i32, p: usize): bool {
  switch (id) {
    case 501: copy(p); break;
    default: return false;
  }
  return true;
}
