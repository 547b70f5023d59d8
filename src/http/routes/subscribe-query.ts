import type { Dialect, ProtocolSupport } from '../../core/dialect.ts';
import { servesDialect } from '../../core/dialect.ts';
import { HeraldError } from '../../core/errors.ts';
import type { TopicSelector } from '../../core/topic-selector.ts';
import type { MatchType } from '../../core/url-pattern.ts';
import { matcherSelector } from '../../core/url-pattern.ts';

/** One draft-08 topic matcher of a subscribe request, compiled. */
export interface RequestedMatcher {
  readonly match: string;
  readonly matchType: MatchType;
  readonly selector: TopicSelector;
}

/** What a subscribe request's query asks for, in the dialect its shape says. */
export type SubscribeQuery =
  | {
      readonly dialect: '07';
      /** The `topic` selectors, as sent (possibly none: the hub answers that). */
      readonly selectors: readonly string[];
      readonly lastEventId: string | undefined;
    }
  | {
      readonly dialect: '08';
      readonly matchers: readonly RequestedMatcher[];
      readonly lastEventId: string | undefined;
    };

export interface SubscribeQueryOptions {
  readonly protocol: ProtocolSupport;
  /** Matchers one request may carry (past it: 400). */
  readonly maxMatchers: number;
  /** The base of relative URL Patterns (see hub-url.ts). */
  readonly hubUrl: string;
}

// The matcher parameters draft-08 defines, by their case-sensitive names.
const MATCHER_PARAMETERS: ReadonlyMap<string, MatchType> = new Map([
  ['match', 'exact'],
  ['match_exact', 'exact'],
  ['match_urlpattern', 'urlpattern'],
]);

/**
 * Query parameters that carry the last event id when a client cannot send `Last-Event-ID`, in
 * precedence order: draft-08's `last_event_id`, draft-07's `lastEventID`, the `lastEventId`
 * that event-source-polyfill sends by default, and the `Last-Event-ID` older hubs read. The
 * header wins over all of them (draft-07 and draft-08 agree).
 */
const LAST_EVENT_ID_PARAMETERS = ['last_event_id', 'lastEventID', 'lastEventId', 'Last-Event-ID'];

/** Whether a parameter name lies in draft-08's reserved namespace (`match…`, any case). */
function isMatchNamespace(name: string): boolean {
  return name.slice(0, 5).toLowerCase() === 'match';
}

/**
 * Reads a subscribe request's query and decides its dialect by its shape: `topic` parameters
 * make it draft-07, parameters in the `match` namespace draft-08. A request with both is
 * refused (HERALD_ERR_MIXED_DIALECTS): which selectors would it mean? A request with neither
 * is draft-07 on a hub that serves draft-07 (and is refused for want of a topic, as before),
 * draft-08 on a draft-08-only hub. Throws a HeraldError whose dialect the caller records first:
 * see `dialectOfQuery`.
 */
export function readSubscribeQuery(url: URL, options: SubscribeQueryOptions): SubscribeQuery {
  const dialect = dialectOfQuery(url, options.protocol);
  if (!servesDialect(options.protocol, dialect)) {
    throw new HeraldError(
      'HERALD_ERR_DIALECT_NOT_SERVED',
      dialect === '07'
        ? 'This hub speaks Mercure draft-08 (1.0) only: subscribe with match= or match_urlpattern=, not topic=.'
        : 'This hub speaks Mercure draft-07 only: subscribe with topic=, not match=.',
    );
  }
  if (dialect === '07') {
    return {
      dialect,
      selectors: url.searchParams.getAll('topic'),
      lastEventId: lastEventIdParameter((name) => url.searchParams.get(name) ?? undefined),
    };
  }
  const pairs = formPairs(url.search.slice(1));
  if (pairs.some(([name]) => name === 'authorization')) {
    throw new HeraldError(
      'HERALD_ERR_TOKEN_PRESENTATION',
      'A draft-08 request never carries its token in the URL (RFC 9700): send an Authorization Bearer header or the cookie.',
    );
  }
  const matchers: RequestedMatcher[] = [];
  for (const [name, value] of pairs) {
    if (!isMatchNamespace(name)) continue;
    const matchType = MATCHER_PARAMETERS.get(name);
    if (matchType === undefined) {
      throw new HeraldError(
        'HERALD_ERR_UNKNOWN_MATCHER',
        `"${printable(name)}" is not a topic matcher parameter of this hub: use match (or match_exact) or match_urlpattern; the names are case-sensitive.`,
      );
    }
    if (matchers.length === options.maxMatchers) {
      throw new HeraldError(
        'HERALD_ERR_TOO_MANY_SELECTORS',
        `A subscription may have at most ${options.maxMatchers} topic matchers.`,
      );
    }
    if (value === undefined) {
      throw new HeraldError(
        'HERALD_ERR_INVALID_MATCHER',
        'A topic matcher must be valid UTF-8 (its percent-encoded bytes are not).',
      );
    }
    matchers.push({
      match: value,
      matchType,
      selector: matcherSelector(value, matchType, options.hubUrl),
    });
  }
  const byName = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (value !== undefined && !byName.has(name)) byName.set(name, value);
  }
  return { dialect, matchers, lastEventId: lastEventIdParameter((name) => byName.get(name)) };
}

/** The dialect of a subscribe request by the shape of its query (see readSubscribeQuery). */
export function dialectOfQuery(url: URL, protocol: ProtocolSupport): Dialect {
  let draft07 = false;
  let draft08 = false;
  for (const name of url.searchParams.keys()) {
    if (name === 'topic') draft07 = true;
    else if (isMatchNamespace(name)) draft08 = true;
  }
  if (draft07 && draft08) {
    throw new HeraldError(
      'HERALD_ERR_MIXED_DIALECTS',
      'A subscription is draft-07 (topic=) or draft-08 (match=, match_urlpattern=), not both at once.',
    );
  }
  if (draft07) return '07';
  if (draft08) return '08';
  return servesDialect(protocol, '07') ? '07' : '08';
}

function lastEventIdParameter(get: (name: string) => string | undefined): string | undefined {
  for (const name of LAST_EVENT_ID_PARAMETERS) {
    const value = get(name);
    // Empty means absent, as for the header.
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const LENIENT_UTF8 = new TextDecoder('utf-8');
const ENCODER = new TextEncoder();

/**
 * `application/x-www-form-urlencoded` parsing as the URL Standard defines it (what
 * URLSearchParams does), except that a value whose bytes are not valid UTF-8 comes out
 * `undefined` instead of with U+FFFD in it: draft-08 refuses such matchers, and U+FFFD itself
 * is a valid character that cannot tell the two apart. Names are decoded leniently.
 */
export function formPairs(query: string): [string, string | undefined][] {
  const pairs: [string, string | undefined][] = [];
  for (const sequence of query.split('&')) {
    if (sequence === '') continue;
    const equals = sequence.indexOf('=');
    const name = equals === -1 ? sequence : sequence.slice(0, equals);
    const value = equals === -1 ? '' : sequence.slice(equals + 1);
    const nameText = LENIENT_UTF8.decode(percentDecode(name));
    let valueText: string | undefined;
    try {
      valueText = STRICT_UTF8.decode(percentDecode(value));
    } catch {
      valueText = undefined;
    }
    pairs.push([nameText, valueText]);
  }
  return pairs;
}

const HEX = /^[0-9A-Fa-f]{2}$/;

function percentDecode(text: string): Uint8Array {
  const input = ENCODER.encode(text.replaceAll('+', ' '));
  const output = new Uint8Array(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] ?? 0;
    if (byte === 0x25 && i + 2 < input.length) {
      const hex = String.fromCharCode(input[i + 1] ?? 0, input[i + 2] ?? 0);
      if (HEX.test(hex)) {
        output[length++] = Number.parseInt(hex, 16);
        i += 2;
        continue;
      }
    }
    output[length++] = byte;
  }
  return output.subarray(0, length);
}

/** A parameter name fit to quote in an answer: its controls escaped, at most 64 characters. */
function printable(name: string): string {
  const shown = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
  return shown.slice(1, -1);
}
