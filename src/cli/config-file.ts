import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { parseDocument } from 'yaml';
import { OptionError } from './option-reading.ts';

/**
 * A configuration file, read and checked against a command's flag table: its keys are the flags
 * without `--`, so an option added to the table is a file key too, with nothing else to write.
 * Values are kept as the flags would give them (strings, lists of strings), so that every value
 * goes through the same parser, and fails with the same message, whatever its source.
 */
export interface ConfigFile {
  /** The path as the operator gave it, for messages. */
  readonly path: string;
  /** Each key's value: a string (booleans as `true`/`false`), or a list for repeatable flags. */
  readonly values: ReadonlyMap<string, string | readonly string[]>;
}

type FlagTable = NonNullable<ParseArgsConfig['options']>;

/** How a file value is named in messages: `port (in /etc/herald.yaml)`. */
export function fileKeyName(key: string, path: string): string {
  return `${key} (in ${path})`;
}

/**
 * Reads a YAML configuration file. YAML because a reviewed deployment file wants comments and
 * lists (of origins, of proxies), and the deployments Herald lands in (Compose, Kubernetes,
 * Helm) already speak it; the `yaml` package parses YAML 1.2 (where `no` stays a string), has no
 * dependencies, and reports errors with their line and column.
 *
 * @param excluded flags that make no sense in a file (`help`, `config` itself)
 * @throws OptionError naming the file and, where there is one, the key
 */
export function readConfigFile(
  path: string,
  table: FlagTable,
  excluded: readonly string[],
): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new OptionError(
      `cannot read the configuration file ${path} (${code}): ${(error as Error).message}`,
    );
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [syntaxError] = document.errors;
  if (syntaxError !== undefined) {
    const at = syntaxError.linePos?.[0];
    const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
    // The pretty message ends its first line with the position, then quotes the line.
    const what = (syntaxError.message.split('\n')[0] ?? '').replace(
      / at line \d+, column \d+:$/,
      '',
    );
    throw new OptionError(`${path} is not valid YAML${where}: ${what}`);
  }
  const values = new Map<string, string | readonly string[]>();
  const root: unknown = document.toJS({ maxAliasCount: 100 });
  // An empty file (or one of comments only) sets nothing.
  if (root === null || root === undefined) return { path, values };
  if (typeof root !== 'object' || Array.isArray(root)) {
    throw new OptionError(
      `${path} must be a mapping of option names to values, such as "port: 3000".`,
    );
  }
  const known = Object.keys(table).filter((flag) => !excluded.includes(flag));
  for (const [key, value] of Object.entries(root)) {
    const spec = known.includes(key) ? table[key] : undefined;
    if (spec === undefined) throw unknownKey(key, path, known);
    values.set(key, fileValue(value, fileKeyName(key, path), spec));
  }
  return { path, values };
}

function fileValue(
  value: unknown,
  name: string,
  spec: FlagTable[string],
): string | readonly string[] {
  if (spec.type === 'boolean') {
    if (typeof value === 'boolean') return String(value);
    throw new OptionError(`${name} must be true or false; got ${describe(value)}.`);
  }
  if (spec.multiple === true) {
    const list = Array.isArray(value) ? (value as unknown[]) : [value];
    if (list.length > 0 && list.every(isText)) return list.map(String);
    throw new OptionError(`${name} must be a string or a list of strings; got ${describe(value)}.`);
  }
  if (isText(value)) return String(value);
  throw new OptionError(`${name} must be a string or a number; got ${describe(value)}.`);
}

/** A value a flag could have given: a string, or a number written without quotes. */
function isText(value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'no value';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string "${value}"`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function unknownKey(key: string, path: string, known: readonly string[]): OptionError {
  const near = known.find((candidate) => editDistance(candidate, key) <= 2);
  const hint = near === undefined ? '' : ` (did you mean "${near}"?)`;
  return new OptionError(
    `${path}: unknown key "${key}"${hint}; the keys are the herald serve flags without "--" (herald serve --help).`,
  );
}

/** Levenshtein distance, for the "did you mean" of a misspelt key. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
