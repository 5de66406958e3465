import { KestrelError } from '../errors.js';

/** One-line data error naming the file (or dataset) it is about. */
export function dataError(name: string, message: string): KestrelError {
  return new KestrelError('E_DATA', `${name}: ${message}`);
}
