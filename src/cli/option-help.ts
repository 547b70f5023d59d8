import { DEFAULTS } from '../config.ts';
import type { OptionSpec } from '../options/option-table.ts';

/** Where each part of an option's help starts, and how wide the help is. */
const DESCRIPTION_COLUMN = 29;
const VARIABLE_COLUMN = 67;
const WIDTH = 100;

/**
 * An option's default as `--help` and the README say it: the declared words where the default
 * depends on something else (`--jwt-key`), else the value `DEFAULTS` holds at its path, written
 * by its kind (`20s`, `off`); `undefined` where there is none.
 */
export function defaultOf(spec: OptionSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.path === undefined || spec.path.includes('.')) return undefined;
  return spec.kind.format((DEFAULTS as Readonly<Record<string, unknown>>)[spec.path]);
}

/** The help of a table's options: each flag, what it does, its variable and its default. */
export function optionHelp(options: readonly OptionSpec[]): string {
  return options.map(optionLines).join('\n');
}

function optionLines(spec: OptionSpec): string {
  const { flag, kind, variable } = spec;
  const head = `  --${flag}${kind.placeholder === '' ? '' : ` ${kind.placeholder}`}`;
  const fallback = defaultOf(spec);
  const list = kind.form === 'list' && kind.wholeVariable !== true ? ', a comma list' : '';
  const source = `${variable}${list}${fallback === undefined ? '' : ` (${fallback})`}`;
  const first =
    head.length < DESCRIPTION_COLUMN - 1 ? head.padEnd(DESCRIPTION_COLUMN) : `${head}  `;
  const lines = wrap(spec.help, WIDTH - first.length, WIDTH - DESCRIPTION_COLUMN);
  const out = lines.map((line, index) =>
    index === 0 ? `${first}${line}` : `${' '.repeat(DESCRIPTION_COLUMN)}${line}`,
  );
  const last = out.at(-1) ?? first;
  const column = Math.max(VARIABLE_COLUMN, last.length + 3);
  if (column + source.length <= WIDTH) out[out.length - 1] = `${last.padEnd(column)}${source}`;
  else out.push(`${' '.repeat(VARIABLE_COLUMN)}${source}`);
  return out.join('\n');
}

/** Splits a text at spaces into lines no wider than given (a longer word stays whole). */
function wrap(text: string, firstWidth: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > (lines.length === 0 ? firstWidth : width)) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}
