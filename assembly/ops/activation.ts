// Kernels of the activation family (ids activation). See src/runtime/ops/activation.ts for the
// prepare step that writes each kernel's record.
import { w, wp } from '../fixedpoint';

// Returns false for an id this family does not know.
export function runActivation(id: i32, p: usize): bool {
  switch (id) {
    default: return false;
  }
}
