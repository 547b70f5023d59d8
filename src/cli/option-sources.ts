import type { ParseArgsConfig } from 'node:util';
import type { OptionSpec } from '../options/option-table.ts';
import { fileKeyName } from './config-file.ts';
import type { FileValues } from './option-reading.ts';

type FlagTable = NonNullable<ParseArgsConfig['options']>;

/** An option as the operator gave it: where, under which name, with which text. */
export interface GivenOption {
  readonly spec: OptionSpec;
  /** `--port`, `HERALD_PORT` or `port (in herald.yaml)`: the name messages use. */
  readonly name: string;
  /** The text given; for a list, its entries. */
  readonly texts: readonly string[];
}

/** The options given, by flag. */
export type GivenOptions = ReadonlyMap<string, GivenOption>;

/** The flags of a table, as `node:util` `parseArgs` takes them. */
export function flagTable(options: readonly OptionSpec[]): FlagTable {
  return Object.fromEntries(
    options.map(({ flag, kind }) => [
      flag,
      kind.form === 'switch'
        ? { type: 'boolean' }
        : kind.form === 'list'
          ? { type: 'string', multiple: true }
          : { type: 'string' },
    ]),
  );
}

/** The table's flags that a configuration file may not set. */
export function notInFile(options: readonly OptionSpec[]): string[] {
  return options.filter((spec) => spec.notInFile === true).map((spec) => spec.flag);
}

/**
 * Finds each option of a table where the operator gave it: the flag, else its variable (an empty
 * one is absent; a list's is a comma list), else the configuration file's key.
 */
export function givenOptions(
  options: readonly OptionSpec[],
  flags: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
  file?: FileValues,
): GivenOptions {
  const given = new Map<string, GivenOption>();
  for (const spec of options) {
    const found =
      fromFlag(spec, flags[spec.flag]) ?? fromVariable(spec, env) ?? fromFile(spec, file);
    if (found !== undefined) given.set(spec.flag, { spec, ...found });
  }
  return given;
}

type Found = Omit<GivenOption, 'spec'> | undefined;

function fromFlag(spec: OptionSpec, value: unknown): Found {
  const name = `--${spec.flag}`;
  if (typeof value === 'string') return { name, texts: [value] };
  // A switch given on the command line is on.
  if (typeof value === 'boolean') return { name, texts: [String(value)] };
  if (Array.isArray(value)) return { name, texts: value.map(String) };
  return undefined;
}

function fromVariable(spec: OptionSpec, env: Readonly<Record<string, string | undefined>>): Found {
  const value = env[spec.variable];
  if (value === undefined || value === '') return undefined;
  const split = spec.kind.form === 'list' && spec.kind.wholeVariable !== true;
  return {
    name: spec.variable,
    texts: split ? value.split(',').map((entry) => entry.trim()) : [value],
  };
}

function fromFile(spec: OptionSpec, file: FileValues | undefined): Found {
  const value = file?.values.get(spec.flag);
  if (file === undefined || value === undefined) return undefined;
  return {
    name: fileKeyName(spec.flag, file.path),
    texts: typeof value === 'string' ? [value] : value,
  };
}

/** An option's name and text as given (a list's first entry), by flag. */
export type PickGiven = (flag: string) => [name: string, text: string] | undefined;

export function pickerOf(given: GivenOptions): PickGiven {
  return (flag) => {
    const option = given.get(flag);
    return option === undefined ? undefined : [option.name, option.texts[0] ?? ''];
  };
}
