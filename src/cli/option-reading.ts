import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { ConfigError } from '../options/config-error.ts';

/**
 * A command-line error that names the flag or variable at fault: one the option table's kinds
 * cannot see (an unknown flag, options that exclude each other).
 */
export class OptionError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

/** The values of a configuration file (src/cli/config-file.ts), the lowest source but defaults. */
export interface FileValues {
  readonly path: string;
  readonly values: ReadonlyMap<string, string | readonly string[]>;
}

/** Parses a command's flags strictly; an unknown or malformed flag is an OptionError naming it. */
export function parseFlags<Options extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: Options,
): ParsedFlags<Options> {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new OptionError((error as Error).message);
  }
}

type ParsedFlags<Options extends NonNullable<ParseArgsConfig['options']>> = ReturnType<
  typeof parseArgs<{ options: Options; strict: true; allowPositionals: false }>
>['values'];
