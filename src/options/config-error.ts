/**
 * A configuration Herald cannot run with: a value out of its range, of the wrong type, or two
 * options that contradict each other. The message names the option as its giver wrote it: the
 * `startHerald()` option (`port`), or for `herald serve` the flag, the variable, or the key and
 * the file. Thrown before anything is opened.
 */
export class ConfigError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
