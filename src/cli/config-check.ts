import { OptionError } from './option-reading.ts';
import { parseServeOptions } from './serve-options.ts';

export const CONFIG_HELP = `Usage: herald config check <file>

Checks a configuration file as herald serve --config <file> would read it, without starting:
every key known, every value of the right type and in range, the combinations allowed. The
environment is not read, so a variable cannot hide a mistake in the file.

Exit status: 0 when the file is valid, 2 (with the key and the file named) when it is not.`;

/** `herald config check <file>`: what to print when the file is valid, or 'help'. */
export function checkConfigFromArgs(argv: readonly string[]): string {
  const [subcommand, ...rest] = argv;
  if (subcommand === '--help' || subcommand === '-h') return 'help';
  if (subcommand === undefined) throw new OptionError(`Missing config command.\n\n${CONFIG_HELP}`);
  if (subcommand !== 'check') {
    throw new OptionError(`Unknown config command "${subcommand}".\n\n${CONFIG_HELP}`);
  }
  if (rest.some((arg) => arg === '--help' || arg === '-h')) return 'help';
  const [path, ...extra] = rest;
  if (path === undefined || path.startsWith('-') || extra.length > 0) {
    throw new OptionError(`herald config check takes one file.\n\n${CONFIG_HELP}`);
  }
  const options = parseServeOptions(['--config', path], {});
  if (options === 'help') return 'help';
  const mode = options.development
    ? 'no key is set, so herald serve would start in development mode'
    : 'herald serve would start with the keys it sets';
  return `${path}: valid; ${mode}.`;
}
