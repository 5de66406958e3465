// Shard 1 of the compiled-module conformance suite (see compiled-lib.mjs).
import { registerShard } from './compiled-lib.mjs';

registerShard(1);
