import { availableParallelism } from 'node:os';
import { trustedProxySet } from '../http/request/client-address.ts';
import { ConfigError } from './config-error.ts';

/**
 * How a message names an option and its value, as the one who gave them wrote them: for
 * `startHerald()` the option and its value (`port`, `70000`), for `herald serve` the flag, the
 * variable or the file key and the text (`--port`, `"70000"`).
 */
export interface Subject {
  readonly name: string;
  readonly written: string;
  /** How this giver switches a limit off: `null` for `startHerald()`, `0` on the command line. */
  readonly none: string;
}

/**
 * What one option's value is. Its text form is what `herald serve` reads from a flag, a variable
 * or a configuration file; its bounds are checked by `checkConfig`, for the CLI and
 * `startHerald()` alike; its format writes the default in `--help` and the README.
 */
export interface ValueKind {
  /** The flag's argument in `--help`: `<n>`, `<duration>`; `''` for a switch. */
  readonly placeholder: string;
  /**
   * `switch`: a flag without argument (variables and file keys take true or false); `list`: a
   * repeatable flag (a variable holds a comma list, a file a YAML list); `value`: one value.
   */
  readonly form: 'switch' | 'value' | 'list';
  /** A list whose variable is one entry, not split at commas (a JSON value holds commas). */
  readonly wholeVariable?: boolean;
  /** Reads an operator's text (for a list, one entry); throws a ConfigError naming `name`. */
  read(text: string, name: string): unknown;
  /** Checks a value from any source against its bounds; throws a ConfigError. */
  check(value: unknown, subject: Subject): void;
  /** The value written for an operator (`20s`, `3000`, `off`); `undefined`: none. */
  format(value: unknown): string | undefined;
}

function refuse(subject: Subject, expected: string): never {
  throw new ConfigError(`${subject.name} must be ${expected}; got ${subject.written}.`);
}

interface IntegerBounds {
  readonly min: number;
  readonly max: number;
  /** `0` switches the feature off: the CLI reads it as `null`, which `startHerald()` takes. */
  readonly zeroMeansNone?: boolean;
  readonly placeholder?: string;
}

/** A whole number within bounds, e.g. a port or a size in bytes. */
export function integer(bounds: IntegerBounds): ValueKind {
  const { min, max, zeroMeansNone = false } = bounds;
  const lowest = zeroMeansNone ? Math.max(min, 1) : min;
  return {
    placeholder: bounds.placeholder ?? '<n>',
    form: 'value',
    read(text, name) {
      const n = Number(text);
      if (!/^[0-9]+$/.test(text) || n < min || n > max) {
        throw new ConfigError(`${name} must be an integer from ${min} to ${max}; got "${text}".`);
      }
      return zeroMeansNone && n === 0 ? null : n;
    },
    check(value, subject) {
      if (zeroMeansNone && value === null) return;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < lowest || value > max) {
        refuse(
          subject,
          `an integer from ${lowest} to ${max}${zeroMeansNone ? `, or ${subject.none} for no limit` : ''}`,
        );
      }
    },
    format: (value) => (typeof value === 'number' ? String(value) : undefined),
  };
}

/** A number of processes: a whole number within bounds, or `auto`, one per CPU this process may use. */
export function processCount(max: number): ValueKind {
  const whole = integer({ min: 1, max });
  return {
    ...whole,
    placeholder: '<n|auto>',
    read(text, name) {
      if (text === 'auto') return availableParallelism();
      if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > max) {
        throw new ConfigError(
          `${name} must be auto or an integer from 1 to ${max}; got "${text}".`,
        );
      }
      return Number(text);
    },
  };
}

/**
 * Events per second: the CLI takes a whole number (`0`: no limit), `startHerald()` any number
 * above 0 (`0.5`: one every two seconds) or `null`.
 */
export function rate(max: number): ValueKind {
  const whole = integer({ min: 0, max, zeroMeansNone: true });
  return {
    ...whole,
    check(value, subject) {
      if (value === null) return;
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
        refuse(subject, `a number above 0 and at most ${max}, or ${subject.none} for no limit`);
      }
    },
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

/** `1500`, `1500ms`, `20s`, `2m`, `12h` or `7d`, in milliseconds. */
export function readDuration(text: string, name: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d)?$/.exec(text);
  if (match === null) {
    throw new ConfigError(
      `${name} must be a duration such as 20s, 1500ms, 2m or 7d; got "${text}".`,
    );
  }
  return Number(match[1]) * (DURATION_UNITS[match[2] ?? 'ms'] ?? 1);
}

/** Milliseconds in the largest unit that holds them whole: `20s`, `7d`, `1500ms`; `0` stays `0`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of Object.entries(DURATION_UNITS)) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Node's timers take at most 2^31 - 1 ms; a longer interval would fire at once, every time. */
export const LONGEST_TIMER = '24d';

interface DurationBounds {
  /** The bounds as an operator writes them (`1ms`, `60s`), and as messages say them. */
  readonly min?: string;
  readonly max?: string;
  /** `0` switches the feature off: the CLI reads it as `null`, which `startHerald()` takes. */
  readonly zeroMeansNone?: boolean;
}

/** A duration: text such as `20s` on the command line, milliseconds for `startHerald()`. */
export function duration(bounds: DurationBounds = {}): ValueKind {
  const { zeroMeansNone = false } = bounds;
  const lowest = bounds.min ?? (zeroMeansNone ? '1ms' : '0');
  const min = readDuration(lowest, 'min');
  const max = bounds.max === undefined ? undefined : readDuration(bounds.max, 'max');
  const range =
    min > 0 && bounds.max !== undefined
      ? `from ${lowest} to ${bounds.max}`
      : bounds.max !== undefined
        ? `at most ${bounds.max}`
        : `at least ${lowest}`;
  return {
    placeholder: '<duration>',
    form: 'value',
    read(text, name) {
      const ms = readDuration(text, name);
      return zeroMeansNone && ms === 0 ? null : ms;
    },
    check(value, subject) {
      if (zeroMeansNone && value === null) return;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        refuse(subject, `a duration in milliseconds`);
      }
      if (value < min || (max !== undefined && value > max)) {
        refuse(subject, `${range}${zeroMeansNone ? `, or ${subject.none} for none` : ''}`);
      }
    },
    format: (value) => (typeof value === 'number' ? formatDuration(value) : undefined),
  };
}

/** On or off: a flag's presence, or `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`). */
export function flag(): ValueKind {
  return {
    placeholder: '',
    form: 'switch',
    read(text, name) {
      if (['1', 'true', 'yes', 'on'].includes(text.toLowerCase())) return true;
      if (['0', 'false', 'no', 'off'].includes(text.toLowerCase())) return false;
      throw new ConfigError(`${name} must be true or false; got "${text}".`);
    },
    check(value, subject) {
      if (typeof value !== 'boolean') refuse(subject, 'true or false');
    },
    format: (value) => (value === true ? 'on' : value === false ? 'off' : undefined),
  };
}

interface TextRule {
  readonly placeholder: string;
  /** Whether a text is acceptable; absent: any non-empty text. */
  readonly valid?: (text: string) => boolean;
  /** The message for an unacceptable one. */
  readonly problem?: (subject: Subject) => string;
}

/** A text: an address, an issuer, a cookie name. */
export function text(rule: TextRule): ValueKind {
  const valid = rule.valid ?? ((value: string) => value !== '');
  const problem =
    rule.problem ??
    ((subject: Subject) => `${subject.name} must be a non-empty text; got ${subject.written}.`);
  return {
    placeholder: rule.placeholder,
    form: 'value',
    read: (value) => value,
    check(value, subject) {
      if (value === null) return;
      if (typeof value !== 'string' || !valid(value)) throw new ConfigError(problem(subject));
    },
    format: (value) => (typeof value === 'string' ? value : undefined),
  };
}

/** One of a few words, e.g. a log level. `expected` says them in a message (`07, 08 or both`). */
export function choice(
  words: readonly string[],
  placeholder: string,
  expected?: string,
): ValueKind {
  const said = expected ?? `one of ${words.join(', ')}`;
  return {
    placeholder,
    form: 'value',
    read(value, name) {
      if (!words.includes(value)) {
        throw new ConfigError(`${name} must be ${said}; got "${value}".`);
      }
      return value;
    },
    check(value, subject) {
      if (typeof value !== 'string' || !words.includes(value)) refuse(subject, said);
    },
    format: (value) => (typeof value === 'string' ? value : undefined),
  };
}

/**
 * A list whose entries are checked one by one; a bad entry is quoted in the message, as given.
 * `entry` is what each must be (`origins such as …`).
 */
function list(placeholder: string, entry: string, valid: (entry: string) => boolean): ValueKind {
  return {
    placeholder,
    form: 'list',
    read: (value) => value,
    check(value, subject) {
      if (!Array.isArray(value)) refuse(subject, `a list of ${entry}`);
      for (const item of value as unknown[]) {
        if (typeof item !== 'string' || !valid(item)) {
          throw new ConfigError(`${subject.name} must list ${entry}; got ${JSON.stringify(item)}.`);
        }
      }
    },
    format: (value) => (Array.isArray(value) && value.length > 0 ? value.join(', ') : undefined),
  };
}

/** Browser origins: scheme, host and port, as a browser sends them in `Origin`. */
export function origins(): ValueKind {
  return list(
    '<origin>',
    'origins such as https://app.example.com (scheme, host and port only)',
    (origin) => {
      try {
        return new URL(origin).origin === origin;
      } catch {
        return false;
      }
    },
  );
}

/** IP addresses and CIDR ranges, e.g. of trusted proxies. */
export function addresses(): ValueKind {
  return list(
    '<addr>',
    'IP addresses or CIDR ranges such as 10.0.0.5, 10.0.0.0/8 or fd00::/8',
    (entry) => {
      try {
        trustedProxySet([entry]);
        return true;
      } catch {
        return false;
      }
    },
  );
}

/** A text whose reading and checking are another module's (keys, JSON): declared, not checked here. */
export function opaque(placeholder: string, form: 'value' | 'json list' = 'value'): ValueKind {
  return {
    placeholder,
    form: form === 'value' ? 'value' : 'list',
    wholeVariable: form === 'json list',
    read: (value) => value,
    check() {
      // Checked where it is used: keys are loaded, JSON is parsed, with messages naming the option.
    },
    format: (value) => (typeof value === 'string' ? value : undefined),
  };
}
