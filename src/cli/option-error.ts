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
