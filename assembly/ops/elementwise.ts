// Kernels of the elementwise family (ids elementwise). See src/runtime/ops/elementwise.ts for the
// prepare step that writes each kernel's record.
import { w, wp } from '../fixedpoint';

// Returns false for an id this family does not know.
export function runElementwise(id: i32, p: usize): bool {
  switch (id) {
    default: return false;
  }
}
