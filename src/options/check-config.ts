import type { HeraldConfig } from '../config.ts';
import { ConfigError } from './config-error.ts';
import { EMBEDDER_OPTIONS, SERVE_OPTIONS } from './option-table.ts';
import type { Subject, ValueKind } from './value-kinds.ts';

/** How `checkConfig`'s messages name each option: as the one who gave it wrote it. */
export interface OptionNaming {
  /** The option at `path` (`port`, `store.keyPrefix`) holding `value`, for a message. */
  subject(path: string, value: unknown): Subject;
  /** A number of milliseconds as this giver counts them (`startHerald()`'s names end in `Ms`). */
  milliseconds(ms: number): string;
}

/** `startHerald()`'s naming: the option's own name and its value. */
export const EMBEDDER_NAMING: OptionNaming = {
  subject: (path, value) => ({ name: path, written: show(value), none: 'null' }),
  milliseconds: (ms) => String(ms),
};

/** Every option with bounds, by its path among `startHerald()`'s options. */
const CHECKED: readonly { readonly path: string; readonly kind: ValueKind }[] = [
  ...SERVE_OPTIONS.flatMap(({ path, kind }) => (path === undefined ? [] : [{ path, kind }])),
  ...EMBEDDER_OPTIONS,
];

/**
 * Checks a configuration against the bounds the option table declares, and the options that
 * must agree with each other. The one check both `herald serve` and `startHerald()` go through:
 * an embedder gets the same refusal as an operator, each in their own words.
 *
 * @throws ConfigError naming the option (with `naming`) and the value given
 */
export function checkConfig(config: HeraldConfig, naming: OptionNaming = EMBEDDER_NAMING): void {
  for (const { path, kind } of CHECKED) {
    const value = valueAt(config, path);
    if (value !== undefined) kind.check(value, naming.subject(path, value));
  }
  // Node cuts a request at the earlier of the two: a longer headers timeout would never apply.
  const requestTimeout = config.requestTimeoutMs ?? 0;
  if (requestTimeout !== 0 && config.headersTimeoutMs > requestTimeout) {
    const headers = naming.subject('headersTimeoutMs', config.headersTimeoutMs).name;
    const request = naming.subject('requestTimeoutMs', requestTimeout).name;
    throw new ConfigError(
      `${headers} (${naming.milliseconds(config.headersTimeoutMs)}) must not exceed ${request} (${naming.milliseconds(requestTimeout)}).`,
    );
  }
}

/** The value at a dotted path (`store.keyPrefix`); `undefined` where the path leads nowhere. */
function valueAt(config: HeraldConfig, path: string): unknown {
  let value: unknown = config;
  for (const step of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/** A value as code would write it: `70000`, `"09"`, `["a"]`, `null`. */
function show(value: unknown): string {
  if (typeof value === 'string' || (typeof value === 'object' && value !== null)) {
    return JSON.stringify(value);
  }
  return String(value);
}
