// Command-line reading shared by the bench/ scripts: `--flag value` or `--flag=value`,
// numbers checked against a minimum, -h/--help, and one usage line plus the help text
// (exit 2) on a mistake.

/** Prints `name: msg` and the help on stderr, exits 2. */
export function usageError(name, help, msg) {
  process.stderr.write(`${name}: ${msg}\n\n${help}`);
  process.exit(2);
}

/**
 * Calls onArg(flag, r) for each argument, where r = { arg, val(), num(min), int(min), usage(msg) }:
 * val() takes the flag's value (inline after '=' or the next argument), num/int read it
 * as a number >= min.
 */
export function readArgs(argv, name, help, onArg) {
  const usage = (msg) => usageError(name, help, msg);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const val = () => (inline !== undefined ? inline : argv[++i]);
    const num = (min) => {
      const v = val();
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n < min) usage(`${flag} needs a number >= ${min}`);
      return n;
    };
    if (flag === '-h' || flag === '--help') {
      process.stdout.write(help);
      process.exit(0);
    }
    onArg(flag, { arg, val, num, int: (min) => Math.floor(num(min)), usage });
  }
}
