// Selector matching cost: the backtracking engines Herald used (RegExp URI templates, the URL
// Pattern polyfill's test()) against the linear matcher, on ordinary and adversarial selectors.
// Prints a Markdown table of time per evaluation. Usage:
//   npm run bench:matching [-- --max-ms 1000]
import { parseArgs } from 'node:util';
import { URLPattern } from 'urlpattern-polyfill/urlpattern';
import { compileUriTemplate } from '../../src/core/uri-template.ts';
import { UrlPatternMatcher } from '../../src/core/url-pattern-matcher.ts';
import { compileRegExpUriTemplate } from '../../test/support/regexp-uri-template.ts';

const { values } = parseArgs({ options: { 'max-ms': { type: 'string', default: '1000' } } });
/** An old-engine evaluation slower than this is not run at the next, larger size. */
const MAX_MS = Number(values['max-ms']);
const BASE = 'https://hub.example/.well-known/mercure';

/** Mean time of one call, in ms: repeated until 100 ms have passed (once if slower). */
function timeOf(run: () => boolean): { ms: number; result: boolean } {
  let result = run(); // warm-up, and the answer
  let calls = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    result = run();
    calls++;
    elapsed = performance.now() - started;
  } while (elapsed < 100);
  return { ms: elapsed / calls, result };
}

function format(ms: number | undefined): string {
  if (ms === undefined) return 'not run (minutes or more)';
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

interface Case {
  readonly family: string;
  readonly size: string;
  readonly old: () => boolean;
  readonly linear: () => boolean;
  /** Too large for the backtracking engine to finish in reasonable time: linear matcher only. */
  readonly linearOnly?: boolean;
}

const rows: string[] = [];
/** Sizes past this index in each family are measured on the linear matcher only. */
function linearOnlyFrom(cases: Case[], index: number): Case[] {
  return cases.map((entry, position) =>
    position >= index ? { ...entry, linearOnly: true } : entry,
  );
}
function measure(cases: Case[]): void {
  let oldTooSlow = false;
  for (const { family, size, old, linear, linearOnly } of cases) {
    const fresh = timeOf(linear);
    let oldMs: number | undefined;
    if (!oldTooSlow && linearOnly !== true) {
      const started = performance.now();
      const answer = old();
      const once = performance.now() - started;
      oldMs = once > MAX_MS / 4 ? once : timeOf(old).ms;
      if (answer !== fresh.result) throw new Error(`${family} ${size}: engines disagree`);
      oldTooSlow = once > MAX_MS / 4;
    }
    const ratio =
      oldMs === undefined ? '' : `${(oldMs / fresh.ms).toFixed(oldMs / fresh.ms < 10 ? 2 : 0)}×`;
    const row = `| ${family} | ${size} | ${format(oldMs)} | ${format(fresh.ms)} | ${ratio} |`;
    rows.push(row);
    console.error(row); // progress: the old engine can take long
  }
}

function templateCase(family: string, size: string, template: string, topic: string): Case {
  const old = compileRegExpUriTemplate(template);
  const linear = compileUriTemplate(template);
  if (old === undefined || linear === undefined) throw new Error(`not a template: ${template}`);
  return { family, size, old: () => old.test(topic), linear: () => linear.matches(topic) };
}

function patternCase(family: string, size: string, pattern: string, topic: string): Case {
  const old = new URLPattern(pattern, BASE);
  const linear = UrlPatternMatcher.compile(pattern, BASE);
  return {
    family,
    size,
    old: () => old.test(topic, BASE),
    linear: () => linear.matches(topic, BASE),
  };
}

const variables = (count: number): string =>
  Array.from({ length: count }, (_, index) => `{v${index}}`).join('');
const segments = (count: number): string =>
  Array.from({ length: count }, (_, index) => `:v${index}`).join('');

// Ordinary selectors, matching and not.
measure([
  templateCase(
    'template `/books/{id}`',
    'match',
    'https://example.com/books/{id}',
    'https://example.com/books/the-hitchhikers-guide',
  ),
  templateCase(
    'template `/books/{id}`',
    'miss',
    'https://example.com/books/{id}',
    'https://example.com/books/1/reviews',
  ),
  templateCase(
    'template `{+path}{?q,page}`',
    'match',
    'https://example.com/{+path}{?q,page}',
    'https://example.com/a/b/c?q=x&page=2',
  ),
  patternCase(
    'URL pattern `/books/:id`',
    'match',
    'https://example.com/books/:id',
    'https://example.com/books/42',
  ),
  patternCase(
    'URL pattern `/books/:id`',
    'miss',
    'https://example.com/books/:id',
    'https://example.com/books/42/reviews',
  ),
  patternCase(
    'URL pattern `/:a/*`',
    'match',
    'https://example.com/:a/*',
    'https://example.com/x/y/z',
  ),
]);
// Issue 12: adjacent template variables against an ordinary near-miss topic.
measure(
  linearOnlyFrom(
    [4, 5, 6, 7, 8, 12].map((count) =>
      templateCase(
        'template `/books/{a}{b}…`',
        `${count} variables`,
        `https://ex.com/books/${variables(count)}`,
        'https://ex.com/books/the-hitchhikers-guide/reviews',
      ),
    ),
    5,
  ),
);
// Issue 12: a `{+rest}` publish grant and a run of commas ending in a space.
measure(
  linearOnlyFrom(
    [12, 14, 16, 18, 30, 10_000].map((commas) =>
      templateCase(
        'template `/t/{+rest}`',
        `${commas} commas`,
        'https://ex.com/t/{+rest}',
        `https://ex.com/t/${','.repeat(commas)} `,
      ),
    ),
    4,
  ),
);
// URL patterns: adjacent segment wildcards against a near miss.
measure(
  linearOnlyFrom(
    [3, 4, 5, 6, 12].map((count) =>
      patternCase(
        'URL pattern `/t/:v0:v1…/end`',
        `${count} wildcards, 30 chars`,
        `/t/${segments(count)}/end`,
        `/t/${'a'.repeat(30)}/enx`,
      ),
    ),
    4,
  ),
);
// URL patterns: overlapping alternatives under repetition.
measure(
  linearOnlyFrom(
    [14, 16, 18, 20, 30, 10_000].map((length) =>
      patternCase(
        'URL pattern `/t/:r((?:a|aa)+)/end`',
        `${length} a`,
        '/t/:r((?:a|aa)+)/end',
        `/t/${'a'.repeat(length)}/enx`,
      ),
    ),
    4,
  ),
);

console.log('| selector | input | backtracking engine | linear matcher | ratio |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const row of rows) console.log(row);
