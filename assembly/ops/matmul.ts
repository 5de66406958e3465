// Kernels of the matmul family (ids matmul). See src/runtime/ops/matmul.ts for the
// prepare step that writes each kernel's record.
import { w, wp } from '../fixedpoint';

// Returns false for an id this family does not know.
export function runMatmul(id: i32, p: usize): bool {
  switch (id) {
    default: return false;
  }
}
