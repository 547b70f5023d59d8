import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

/** A start-up error that names the flag or variable at fault. */
export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

/** Finds an option's value: the flag wins over the variable. Returns its name and value. */
export type PickOption<Flag extends string> = (
  flag: Flag,
  variable: string,
) => [name: string, value: string] | undefined;

/** Finds a repeatable option's values (a variable holds a comma list), with the name that gave them. */
export type PickList<Flag extends string> = (
  flag: Flag,
  variable: string,
) => [name: string, values: string[]] | undefined;

/** The values of a configuration file (src/cli/config-file.ts), the lowest source but defaults. */
export interface FileValues {
  readonly path: string;
  readonly values: ReadonlyMap<string, string | readonly string[]>;
}

/**
 * Builds a `PickOption` over parsed flags, the environment and a configuration file: flag, then
 * variable, then file. An empty variable is absent. A file value is named `key (in file)`, so
 * every parser's message names the key and the file.
 */
export function optionPicker<Flag extends string>(
  values: Readonly<Partial<Record<Flag, unknown>>>,
  env: Readonly<Record<string, string | undefined>>,
  file?: FileValues,
): PickOption<Flag> {
  return (flag, variable) => {
    const fromFlag = values[flag];
    if (typeof fromFlag === 'string') return [`--${flag}`, fromFlag];
    // A boolean flag given on the command line: the callers read `values` for it first.
    if (typeof fromFlag === 'boolean') return [`--${flag}`, String(fromFlag)];
    const fromEnv = env[variable];
    if (fromEnv !== undefined && fromEnv !== '') return [variable, fromEnv];
    const fromFile = file?.values.get(flag);
    if (typeof fromFile === 'string') return [`${flag} (in ${file?.path ?? ''})`, fromFile];
    return undefined;
  };
}

/** Builds a `PickList`: the repeated flag, then the variable's comma list, then the file's list. */
export function listPicker<Flag extends string>(
  values: Readonly<Partial<Record<Flag, unknown>>>,
  env: Readonly<Record<string, string | undefined>>,
  file?: FileValues,
): PickList<Flag> {
  return (flag, variable) => {
    const fromFlag = values[flag];
    if (Array.isArray(fromFlag)) return [`--${flag}`, fromFlag.map(String)];
    const fromEnv = env[variable];
    if (fromEnv !== undefined && fromEnv !== '') {
      return [variable, fromEnv.split(',').map((entry) => entry.trim())];
    }
    const fromFile = file?.values.get(flag);
    if (fromFile !== undefined && typeof fromFile !== 'string') {
      return [`${flag} (in ${file?.path ?? ''})`, [...fromFile]];
    }
    return undefined;
  };
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
