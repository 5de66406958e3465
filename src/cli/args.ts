/**
 * A small, strict command-line parser: every flag must be declared; unknown flags,
 * missing values and stray arguments are errors with one clear line.
 */
import { KestrelError } from '../errors.js';

export interface FlagSpec {
  /** 'bool' flags take no value; 'string' take one; 'list' may repeat. */
  type: 'bool' | 'string' | 'list';
  help: string;
  default?: string | boolean;
  /** Allowed values for 'string' flags. */
  choices?: string[];
}

export interface Parsed {
  flags: Record<string, string | boolean | string[]>;
  positional: string[];
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>, maxPositional: number, command: string): Parsed {
  const flags: Record<string, string | boolean | string[]> = {};
  for (const [name, s] of Object.entries(spec)) {
    if (s.type === 'list') flags[name] = [];
    else if (s.default !== undefined) flags[name] = s.default;
  }
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      let name = a.slice(2);
      let value: string | undefined;
      const eq = name.indexOf('=');
      if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq); }
      const s = spec[name];
      if (!s) throw new KestrelError('E_USAGE', `kestrel ${command}: unknown flag --${name} (see kestrel ${command} --help)`);
      if (s.type === 'bool') {
        if (value !== undefined) throw new KestrelError('E_USAGE', `kestrel ${command}: --${name} takes no value`);
        flags[name] = true;
        continue;
      }
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined || value.startsWith('--')) throw new KestrelError('E_USAGE', `kestrel ${command}: --${name} needs a value`);
      }
      if (s.choices && !s.choices.includes(value)) {
        throw new KestrelError('E_USAGE', `kestrel ${command}: --${name} must be one of ${s.choices.join(', ')} (got '${value}')`);
      }
      if (s.type === 'list') (flags[name] as string[]).push(value);
      else flags[name] = value;
    } else if (a.startsWith('-') && a.length > 1 && a !== '-') {
      throw new KestrelError('E_USAGE', `kestrel ${command}: unknown flag ${a} (see kestrel ${command} --help)`);
    } else {
      positional.push(a);
    }
  }
  if (positional.length > maxPositional) {
    throw new KestrelError('E_USAGE', `kestrel ${command}: unexpected argument '${positional[maxPositional]}'`);
  }
  return { flags, positional };
}

export function helpText(usage: string, summary: string, spec: Record<string, FlagSpec>): string {
  const lines = [`usage: ${usage}`, '', summary, ''];
  if (Object.keys(spec).length) {
    lines.push('options:');
    for (const [name, s] of Object.entries(spec)) {
      const flag = s.type === 'bool' ? `--${name}` : `--${name} ${s.choices ? s.choices.join('|') : 'VALUE'}`;
      const dflt = s.default !== undefined && s.type !== 'bool' ? ` (default ${s.default})` : '';
      lines.push(`  ${flag.padEnd(28)} ${s.help}${dflt}${s.type === 'list' ? ' (repeatable)' : ''}`);
    }
  }
  return lines.join('\n');
}
