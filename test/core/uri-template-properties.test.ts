import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileUriTemplate } from '../../src/core/uri-template.ts';
import { compileRegExpUriTemplate } from '../support/regexp-uri-template.ts';

// Property tests of the linear URI-template matcher: it must accept exactly what the
// regular-expression compiler it replaced accepted (the reference, on inputs small enough for
// backtracking to stay cheap), and finish on inputs built to make backtracking explode.

const SEED = 12_2026;
const OPERATORS = ['', '+', '#', '.', '/', ';', '?', '&'];
// Characters that matter to the matcher: unreserved, reserved, separators, percent signs, hex
// digits, and some that no expression may produce.
const TOPIC_CHARS = Array.from("ab1Z-._~:/?#[]@!$&'()*+,;=%2Fz %éx");

const variable = fc.record({
  name: fc.constantFrom('a', 'b', 'id', 'x.y', 'v_1'),
  modifier: fc.constantFrom('', '', '*', ':1', ':2', ':3', ':12'),
});

const expression = fc
  .record({
    operator: fc.constantFrom(...OPERATORS),
    variables: fc.array(variable, { minLength: 1, maxLength: 2 }),
  })
  .map(
    ({ operator, variables }) =>
      `{${operator}${variables.map(({ name, modifier }) => name + modifier).join(',')}}`,
  );

const literalPart = fc.constantFrom('', 'a', '/', '/x/', '.', '-', ',', '?q=', 'é');

/** Small templates: up to three expressions with literals between them. */
const template = fc
  .array(fc.tuple(literalPart, expression), { minLength: 1, maxLength: 3 })
  .chain((parts) =>
    literalPart.map(
      (tail) => 'https://ex.com/' + parts.map(([before, body]) => before + body).join('') + tail,
    ),
  );

const FIRST: Record<string, string> = {
  '': '',
  '+': '',
  '#': '#',
  '.': '.',
  '/': '/',
  ';': ';',
  '?': '?',
  '&': '&',
};
const SEPARATOR: Record<string, string> = {
  '': ',',
  '+': ',',
  '#': ',',
  '.': '.',
  '/': '/',
  ';': ';',
  '?': '&',
  '&': '&',
};

const filler = fc
  .array(fc.constantFrom(...TOPIC_CHARS), { maxLength: 6 })
  .map((chars) => chars.join(''));
const value = fc
  .array(fc.constantFrom('a', 'b', '1', '-', '%2F', '~', '/', ','), { maxLength: 4 })
  .map((chars) => chars.join(''));

/** A plausible expansion of one expression body (`+a,b`): mostly valid, sometimes not. */
function expansionOf(body: string): fc.Arbitrary<string> {
  const operator = '+#./;?&'.includes(body[0] ?? '') ? (body[0] ?? '') : '';
  const named = operator === ';' || operator === '?' || operator === '&';
  const item = named
    ? fc.tuple(fc.constantFrom('a', 'id', 'x'), value).map(([name, text]) => `${name}=${text}`)
    : value;
  return fc
    .array(item, { maxLength: 3 })
    .map((items) =>
      items.length === 0 ? '' : (FIRST[operator] ?? '') + items.join(SEPARATOR[operator] ?? ','),
    );
}

/**
 * Topics near the template: each expression replaced by a plausible expansion or a random
 * string (so matches are common, and near misses too), or a random string after the prefix.
 */
function topicFor(source: string): fc.Arbitrary<string> {
  const literals = source.split(/\{[^}]*\}/);
  const bodies = [...source.matchAll(/\{([^}]*)\}/g)].map((match) => match[1] ?? '');
  const fills = fc.tuple(...bodies.map((body) => fc.oneof(expansionOf(body), filler)));
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fills.map((texts) =>
        literals.map((text, index) => text + (texts[index] ?? '')).join(''),
      ),
    },
    { weight: 1, arbitrary: filler.map((text) => 'https://ex.com/' + text) },
  );
}

test('the linear matcher agrees with the regular-expression matcher on random inputs', () => {
  let matched = 0;
  let compared = 0;
  fc.assert(
    fc.property(
      template.chain((source) => fc.tuple(fc.constant(source), topicFor(source))),
      ([source, topic]) => {
        const linear = compileUriTemplate(source);
        const reference = compileRegExpUriTemplate(source);
        assert.equal(linear === undefined, reference === undefined, 'both parse or neither');
        if (linear === undefined || reference === undefined) return;
        const expected = reference.test(topic);
        assert.equal(linear.matches(topic), expected, `${source} vs ${topic}`);
        compared++;
        if (expected) matched++;
      },
    ),
    { seed: SEED, numRuns: 4000 },
  );
  // Not vacuous: the generated topics match often, and fail often.
  assert.ok(matched > compared / 5 && matched < (compared * 4) / 5, `${matched}/${compared}`);
});

test('a malformed template is a plain string for both matchers', () => {
  fc.assert(
    fc.property(
      fc
        .array(fc.constantFrom(...Array.from('{}ab,:*+ |\\')), { maxLength: 12 })
        .map((c) => c.join('')),
      (source) => {
        assert.equal(
          compileUriTemplate(source) === undefined,
          compileRegExpUriTemplate(source) === undefined,
        );
      },
    ),
    { seed: SEED, numRuns: 2000 },
  );
});

test('adversarial templates and topics finish, with the right answer', () => {
  // Many adjacent variables of every operator, against long runs of separators: each of these
  // takes the backtracking matcher exponential time. The answers are known by construction:
  // the trailing character is one no expression of that operator can produce, or is allowed.
  const separators = [',', '/', '.', ';', '&', '=', '%', '%2', '?', 'a'];
  fc.assert(
    fc.property(
      fc.constantFrom(...OPERATORS),
      fc.integer({ min: 2, max: 40 }),
      fc.constantFrom(...separators),
      fc.integer({ min: 10, max: 400 }),
      fc.boolean(),
      (operator, variableCount, separator, runLength, spoil) => {
        const names = Array.from({ length: variableCount }, (_, index) => `v${index}`);
        const adjacent = names.map((name) => `{${operator}${name}}`).join('');
        const listed = `{${operator}${names.join(',')}}`;
        const topic = `https://ex.com/t/${separator.repeat(runLength)}${spoil ? ' ' : ''}`;
        for (const source of [`https://ex.com/t/${adjacent}`, `https://ex.com/t/${listed}`]) {
          const matcher = compileUriTemplate(source);
          assert.ok(matcher !== undefined);
          // A space can never be produced; without it, the answer depends on the operator, and
          // matching the same topic twice must agree (no state leaks between evaluations).
          const first = matcher.matches(topic);
          if (spoil) assert.equal(first, false);
          assert.equal(matcher.matches(topic), first);
        }
      },
    ),
    { seed: SEED, numRuns: 2000 },
  );
});

test('prefix modifiers count characters exactly, at any bound', () => {
  // Bounds above the unrolling limit use the counting loop; below it, unrolled copies. Each
  // percent-encoded triple counts as one character.
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }),
      fc.integer({ min: 0, max: 3100 }),
      fc.boolean(),
      (bound, length, encoded) => {
        const matcher = compileUriTemplate(`https://ex.com/c/{x:${bound}}/end`);
        assert.ok(matcher !== undefined);
        const value = (encoded ? '%2F' : 'a').repeat(length);
        assert.equal(matcher.matches(`https://ex.com/c/${value}/end`), length <= bound);
      },
    ),
    { seed: SEED, numRuns: 300 },
  );
});
