// The regular-expression URI-template compiler Herald used before linear-matcher.ts, kept as the
// reference its replacement must agree with on ordinary inputs (test/core/uri-template-properties.test.ts)
// and as the baseline of bench/matching. It backtracks catastrophically: never use it on
// untrusted input outside a test or benchmark with bounded inputs.
/**
 * Compiles an RFC 6570 URI Template into a regular expression that recognizes the URIs the
 * template can expand to, which is how Mercure matches topic selectors such as
 * `https://example.com/books/{id}`.
 *
 * The expression is a slight superset of the exact expansion language: variables inside one
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

const PCT_ENCODED = '%[0-9A-Fa-f]{2}';
const UNRESERVED_CHAR = `(?:[A-Za-z0-9\\-._~]|${PCT_ENCODED})`;
const RESERVED_CHAR = `(?:[A-Za-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=]|${PCT_ENCODED})`;
const VARIABLE_SPEC =
  /^([A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*(?::([1-9][0-9]{0,3})|\*)?$/;

function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function expressionPattern(body: string): string | undefined {
  const operatorChar = body.length > 0 && '+#./;?&'.includes(body[0] ?? '') ? (body[0] ?? '') : '';
  const operator = OPERATORS[operatorChar];
  if (operator === undefined) return undefined;
  const specs = body.slice(operatorChar.length).split(',');
  const items: string[] = [];
  for (const spec of specs) {
    const parsed = VARIABLE_SPEC.exec(spec);
    if (parsed === null) return undefined;
    const maxLength = parsed[2];
    const char = operator.allowReserved ? RESERVED_CHAR : UNRESERVED_CHAR;
    const value = maxLength === undefined ? `${char}*` : `${char}{0,${maxLength}}`;
    // A list value is comma-separated; an exploded one uses the operator's separator, which
    // the repetition below already covers.
    const listValue = `${value}(?:,${value})*`;
    if (operator.named) {
      items.push(`${UNRESERVED_CHAR}+(?:=${listValue})?`);
    } else {
      items.push(listValue);
    }
  }
  const item = items.length === 1 ? (items[0] ?? '') : `(?:${items.join('|')})`;
  const first = escapeRegExp(operator.first);
  // One plain variable expands to one item; several variables or an explode repeat it.
  const repeats = specs.length > 1 || specs.some((spec) => spec.endsWith('*'));
  if (!repeats) return `(?:${first}${item})?`;
  const separator = escapeRegExp(operator.separator);
  return `(?:${first}${item}(?:${separator}${item})*)?`;
}

/**
 * Returns a RegExp that matches the URIs `template` describes, or `undefined` when `template`
 * is not a well-formed URI Template (callers then compare it as a plain string, as Mercure does).
 */
export function compileRegExpUriTemplate(template: string): RegExp | undefined {
  // RFC 6570 forbids these outside expressions; a selector holding one is a plain string.
  if (/[\s"'<>\\^`|]/.test(template)) return undefined;
  let pattern = '^';
  let position = 0;
  while (position < template.length) {
    const open = template.indexOf('{', position);
    const close = template.indexOf('}', position);
    if (open === -1) {
      if (close !== -1) return undefined;
      pattern += escapeRegExp(template.slice(position));
      break;
    }
    if (close !== -1 && close < open) return undefined;
    const end = template.indexOf('}', open);
    if (end === -1) return undefined;
    const body = template.slice(open + 1, end);
    if (body.includes('{')) return undefined;
    const expression = expressionPattern(body);
    if (expression === undefined) return undefined;
    pattern += escapeRegExp(template.slice(position, open)) + expression;
    position = end + 1;
  }
  return new RegExp(pattern + '$');
}
