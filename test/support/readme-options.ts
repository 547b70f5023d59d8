import { defaultOf } from '../../src/cli/option-help.ts';
import type { OptionSpec } from '../../src/options/option-table.ts';

/** One row of the README's configuration table: its flags, their variables, its default. */
export interface ReadmeOptionRow {
  readonly flags: readonly string[];
  readonly variables: readonly string[];
  /** The default cell as a reader sees it: without backticks or Markdown escapes. */
  readonly defaultText: string;
}

/** The rows of a README's configuration table: the lines that start with a flag. */
export function readmeOptionRows(readme: string): ReadmeOptionRow[] {
  return readme
    .split('\n')
    .filter((line) => /^\|\s*`--/.test(line))
    .map((line) => {
      const [, flagCell = '', variableCell = '', defaultCell = ''] = line
        .split('|')
        .map((cell) => cell.trim());
      return {
        flags: [...flagCell.matchAll(/`--([a-z0-9-]+)`/g)].map((m) => m[1] ?? ''),
        variables: [...variableCell.matchAll(/`(HERALD_[A-Z0-9_]+)`/g)].map((m) => m[1] ?? ''),
        defaultText: defaultCell.replaceAll('`', '').replaceAll('\\', ''),
      };
    });
}

/**
 * What a README's configuration table gets wrong about a table of options: a flag missing or
 * unknown, a variable that is not the option's, a default that is not the one `--help` shows
 * (an option without one reads `none`). Empty when the README is right.
 */
export function readmeTableProblems(options: readonly OptionSpec[], readme: string): string[] {
  const problems: string[] = [];
  const documented = new Map<string, { variable: string | undefined; defaultText: string }>();
  for (const row of readmeOptionRows(readme)) {
    row.flags.forEach((flag, index) => {
      documented.set(flag, { variable: row.variables[index], defaultText: row.defaultText });
    });
  }
  for (const spec of options) {
    const row = documented.get(spec.flag);
    if (row === undefined) {
      problems.push(`--${spec.flag} is missing from the README's configuration table`);
      continue;
    }
    documented.delete(spec.flag);
    if (row.variable !== spec.variable) {
      problems.push(
        `--${spec.flag}: the README names ${row.variable ?? 'no variable'}, the option ${spec.variable}`,
      );
    }
    const expected = defaultOf(spec) ?? 'none';
    if (!row.defaultText.startsWith(expected)) {
      problems.push(
        `--${spec.flag}: the README's default is "${row.defaultText}", the option's "${expected}"`,
      );
    }
  }
  for (const flag of documented.keys()) {
    problems.push(`--${flag} is in the README's configuration table but is no option`);
  }
  return problems;
}
