/**
 * One progress bar for every long command (training, calibration, benchmarks). It draws on
 * stderr only when stderr is a terminal, so piped output and --json stay clean.
 */
export interface ProgressBar {
  /** fraction in [0, 1]; label: what is being done; detail: e.g. "loss 0.312 acc 0.89". */
  update(fraction: number, label: string, detail?: string): void;
  /** Clears the bar's line. */
  done(): void;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr, enabled = stream.isTTY === true): ProgressBar {
  let shown = false;
  let last = 0;
  return {
    update(fraction, label, detail = '') {
      if (!enabled) return;
      const now = Date.now();
      if (shown && fraction < 1 && now - last < 50) return;
      last = now;
      const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
      const width = 30;
      const filled = Math.round(f * width);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(f * 100)).padStart(3)}% ${label}${detail ? ' ' + detail : ''}`;
      stream.write(`\r${line}\x1b[K`);
      shown = true;
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
