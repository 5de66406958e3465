// Kernels of the conv family (ids conv). See src/runtime/ops/conv.ts for the
// prepare step that writes each kernel's record.
import { w, wp } from '../fixedpoint';

// Returns false for an id this family does not know.
export function runConv(id: i32, p: usize): bool {
  switch (id) {
    default: return false;
  }
}
