import { CharSet } from './char-set.ts';
import {
  choice,
  type Expression,
  LinearMatcher,
  literal,
  oneOf,
  optional,
  repeat,
  sequence,
} from './linear-matcher.ts';

/**
 * Compiles an RFC 6570 URI Template into a matcher that recognizes the URIs the template can
 * expand to, which is how Mercure matches topic selectors such as
 * `https://example.com/books/{id}`.
 *
 * The language is a slight superset of the exact expansion language: variables inside one
 * expression may appear in any order and any of them may be undefined (and so omitted),
 * because a subscriber cares whether a topic fits the template's shape, not which variable
 * produced which part; names in `{?name}`-style expressions are not enforced either. This is
 * how the reference hub (yosida95/uritemplate) matches, and what Mercure clients expect.
 * Prefix modifiers (`{var:3}`) bound the value's length; values of
 * simple and path-like expressions never contain `/`, so `/books/{id}` does not match
 * `/books/1/reviews`.
 */

interface Operator {
  /** Written before the first defined variable. */
  readonly first: string;
  /** Written between variables and exploded items. */
  readonly separator: string;
  /** Whether variables are written as `name=value` pairs. */
  readonly named: boolean;
  /** Whether reserved characters pass through unencoded (`+` and `#`). */
  readonly allowReserved: boolean;
}

const OPERATORS: Readonly<Record<string, Operator>> = {
  '': { first: '', separator: ',', named: false, allowReserved: false },
  '+': { first: '', separator: ',', named: false, allowReserved: true },
  '#': { first: '#', separator: ',', named: false, allowReserved: true },
  '.': { first: '.', separator: '.', named: false, allowReserved: false },
  '/': { first: '/', separator: '/', named: false, allowReserved: false },
  ';': { first: ';', separator: ';', named: true, allowReserved: false },
  '?': { first: '?', separator: '&', named: true, allowReserved: false },
  '&': { first: '&', separator: '&', named: true, allowReserved: false },
};

const HEX = CharSet.of([
  [0x30, 0x39],
  [0x41, 0x46],
  [0x61, 0x66],
]);
const PERCENT_ENCODED = sequence(literal('%'), oneOf(HEX), oneOf(HEX));
const UNRESERVED = CharSet.of([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
]).union(CharSet.chars('-._~'));
const RESERVED = UNRESERVED.union(CharSet.chars(":/?#[]@!$&'()*+,;="));
const UNRESERVED_CHAR = choice(oneOf(UNRESERVED), PERCENT_ENCODED);
const RESERVED_CHAR = choice(oneOf(RESERVED), PERCENT_ENCODED);
const VARIABLE_SPEC =
  /^([A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*(?::([1-9][0-9]{0,3})|\*)?$/;

/**
 * Templates longer than this are compared as plain strings only (see MAX_TEMPLATE_LENGTH in
 * topic-selector.ts, which refuses them where a client sends them). A template compiles to about
 * 3 matcher states per literal character and about 20 per variable, so this also bounds the
 * compiled size; the state limit below is the hard stop.
 */
export const MAX_TEMPLATE_STATES = 40_000;

function expressionPattern(body: string): Expression | undefined {
  const operatorChar = body.length > 0 && '+#./;?&'.includes(body[0] ?? '') ? (body[0] ?? '') : '';
  const operator = OPERATORS[operatorChar];
  if (operator === undefined) return undefined;
  const specs = body.slice(operatorChar.length).split(',');
  const items: Expression[] = [];
  for (const spec of specs) {
    const parsed = VARIABLE_SPEC.exec(spec);
    if (parsed === null) return undefined;
    const maxLength = parsed[2];
    const char = operator.allowReserved ? RESERVED_CHAR : UNRESERVED_CHAR;
    const value = repeat(char, 0, maxLength === undefined ? Infinity : Number(maxLength));
    // A list value is comma-separated; an exploded one uses the operator's separator, which
    // the repetition below already covers.
    const listValue = sequence(value, repeat(sequence(literal(','), value), 0, Infinity));
    if (operator.named) {
      items.push(
        sequence(repeat(UNRESERVED_CHAR, 1, Infinity), optional(sequence(literal('='), listValue))),
      );
    } else {
      items.push(listValue);
    }
  }
  const item = choice(...items);
  const first = literal(operator.first);
  // One plain variable expands to one item; several variables or an explode repeat it.
  const repeats = specs.length > 1 || specs.some((spec) => spec.endsWith('*'));
  if (!repeats) return optional(sequence(first, item));
  const separator = literal(operator.separator);
  return optional(sequence(first, item, repeat(sequence(separator, item), 0, Infinity)));
}

/**
 * Returns the language of the URIs `template` describes, or `undefined` when `template` is not a
 * well-formed URI Template (callers then compare it as a plain string, as Mercure does).
 */
export function parseUriTemplate(template: string): Expression | undefined {
  // RFC 6570 forbids these outside expressions; a selector holding one is a plain string.
  if (/[\s"'<>\\^`|]/.test(template)) return undefined;
  const parts: Expression[] = [];
  let position = 0;
  while (position < template.length) {
    const open = template.indexOf('{', position);
    const close = template.indexOf('}', position);
    if (open === -1) {
      if (close !== -1) return undefined;
      parts.push(literal(template.slice(position)));
      break;
    }
    if (close !== -1 && close < open) return undefined;
    const end = template.indexOf('}', open);
    if (end === -1) return undefined;
    const body = template.slice(open + 1, end);
    if (body.includes('{')) return undefined;
    const expression = expressionPattern(body);
    if (expression === undefined) return undefined;
    parts.push(literal(template.slice(position, open)), expression);
    position = end + 1;
  }
  return sequence(...parts);
}

/**
 * Compiles `template` to a matcher that recognizes the URIs it can expand to in time linear in
 * the URI's length (see linear-matcher.ts), or `undefined` when it is not a URI Template.
 * Throws ExpressionTooComplexError past MAX_TEMPLATE_STATES.
 */
export function compileUriTemplate(template: string): LinearMatcher | undefined {
  const expression = parseUriTemplate(template);
  return expression === undefined
    ? undefined
    : LinearMatcher.compile(expression, MAX_TEMPLATE_STATES);
}
