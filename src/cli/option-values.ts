import type { OptionNaming } from '../options/check-config.ts';
import type { OptionSpec } from '../options/option-table.ts';
import type { GivenOption, GivenOptions } from './option-sources.ts';

/** Reads one given option's text with its kind: a value, or for a list the list of its entries. */
export function readGiven(given: GivenOption): unknown {
  const { spec, name, texts } = given;
  if (spec.kind.form === 'list') return texts.map((text) => spec.kind.read(text, name));
  return spec.kind.read(texts[0] ?? '', name);
}

/**
 * The `startHerald()` options that the given options set directly (those with a top-level path
 * that no other option takes part in), by path. Their types are the kinds': `checkConfig` then
 * checks the values against their bounds.
 */
export function readValues(given: GivenOptions): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const option of given.values()) {
    const { path, derived } = option.spec;
    if (path !== undefined && derived !== true && !path.includes('.')) {
      values[path] = readGiven(option);
    }
  }
  return values;
}

/**
 * Names options as the operator gave them: the flag, the variable, or the key and the file, with
 * the text given. An option left at its default is named by its flag.
 */
export function operatorNaming(options: readonly OptionSpec[], given: GivenOptions): OptionNaming {
  return {
    subject(path, value) {
      const spec = options.find((candidate) => candidate.path === path);
      const option = spec === undefined ? undefined : given.get(spec.flag);
      return {
        name: option?.name ?? (spec === undefined ? path : `--${spec.flag}`),
        written:
          option !== undefined && option.spec.kind.form !== 'list'
            ? JSON.stringify(option.texts[0])
            : JSON.stringify(value),
        none: '0',
      };
    },
    milliseconds: (ms) => `${ms} ms`,
  };
}
