import { option } from '../options/option-table.ts';
import type { OptionSpec } from '../options/option-table.ts';
import { opaque, text } from '../options/value-kinds.ts';
import { optionHelp } from './option-help.ts';
import { OptionError } from './option-reading.ts';
import { flagTable, pickerOf } from './option-sources.ts';
import type { GivenOptions } from './option-sources.ts';

/** Where `herald serve` listens by default, so that the two work together with no flag. */
export const DEFAULT_HUB_URL = 'http://localhost:3000/.well-known/mercure';

/** The options `herald publish` and `herald subscribe` share: which hub, which token. */
export const HUB_OPTIONS: readonly OptionSpec[] = [
  option({
    flag: 'hub',
    variable: 'HERALD_HUB_URL',
    kind: text({ placeholder: '<url>' }),
    help: 'the hub URL (any Mercure hub)',
    defaultText: DEFAULT_HUB_URL,
  }),
  option({
    flag: 'token',
    kind: opaque('<jwt>'),
    help: 'bearer token (development mode prints one)',
  }),
];

export const HUB_FLAGS = flagTable(HUB_OPTIONS);

export const HUB_HELP = optionHelp(HUB_OPTIONS);

export interface HubOptions {
  readonly hubUrl: URL;
  readonly token: string | undefined;
}

export function parseHubOptions(given: GivenOptions): HubOptions {
  const pick = pickerOf(given);
  const [name, value] = pick('hub') ?? ['--hub', DEFAULT_HUB_URL];
  let hubUrl: URL;
  try {
    hubUrl = new URL(value);
  } catch {
    throw new OptionError(
      `${name} must be an http(s) URL such as ${DEFAULT_HUB_URL}; got "${value}".`,
    );
  }
  if (hubUrl.protocol !== 'http:' && hubUrl.protocol !== 'https:') {
    throw new OptionError(
      `${name} must be an http(s) URL such as ${DEFAULT_HUB_URL}; got "${value}".`,
    );
  }
  return { hubUrl, token: pick('token')?.[1] };
}

/**
 * The hub's reason for refusing, for a human: Herald's (or any hub's) problem document
 * (RFC 9457: title, detail, Herald's stable code), else the start of a plain-text body.
 */
export function describeRefusal(
  status: number,
  statusText: string,
  body: string,
  contentType: string,
): string {
  const head = `${status}${statusText === '' ? '' : ` ${statusText}`}`;
  if (/^application\/(problem\+)?json\b/i.test(contentType)) {
    try {
      const problem = JSON.parse(body) as Record<string, unknown>;
      const text = (name: string): string | undefined =>
        typeof problem[name] === 'string' ? problem[name] : undefined;
      const what = text('detail') ?? text('title');
      const code = text('code');
      return `${head}${what === undefined ? '' : `: ${what}`}${code === undefined ? '' : ` (${code})`}`;
    } catch {
      // Not JSON after all: shown as text below.
    }
  }
  const excerpt = body.trim().replace(/\s+/g, ' ').slice(0, 200);
  return excerpt === '' ? head : `${head}: ${excerpt}`;
}
