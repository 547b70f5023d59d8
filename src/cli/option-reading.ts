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

/** Builds a `PickOption` over parsed flags and the environment; an empty variable is absent. */
export function optionPicker<Flag extends string>(
  values: Readonly<Partial<Record<Flag, unknown>>>,
  env: Readonly<Record<string, string | undefined>>,
): PickOption<Flag> {
  return (flag, variable) => {
    const fromFlag = values[flag];
    if (typeof fromFlag === 'string') return [`--${flag}`, fromFlag];
    const fromEnv = env[variable];
    if (fromEnv !== undefined && fromEnv !== '') return [variable, fromEnv];
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
