// Kernels of the lstm family (ids lstm). See src/runtime/ops/lstm.ts for the
// prepare step that writes each kernel's record.
import { w, wp } from '../fixedpoint';

// Returns false for an id this family does not know.
export function runLstm(id: i32, p: usize): bool {
  switch (id) {
    default: return false;
  }
}
