import { CharSet } from './char-set.ts';
import { choice, type Expression, literal, oneOf, repeat, sequence } from './linear-matcher.ts';

/**
 * Parses the regular (backtracking-free) subset of JavaScript's `u`-mode regular-expression
 * syntax into an Expression for the linear matcher: alternation, groups (capturing or not; the
 * matcher does not capture), quantifiers (greedy or lazy: the same language), `.`, classes,
 * and escapes. The URL Pattern standard compiles every pattern to such an expression, and lets a
 * pattern embed its own (`:id(\d+)`).
 *
 * What is not regular, or not needed to decide a whole-string match, is refused with
 * UnsupportedRegExpError rather than approximated: backreferences, lookaround, `\b`, `\B`,
 * Unicode property escapes, and `^` or `$` anywhere but the two ends of the whole expression.
 */
export class UnsupportedRegExpError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'UnsupportedRegExpError';
  }
}

const DIGITS = CharSet.range(0x30, 0x39);
const WORD = CharSet.of([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
// ECMAScript WhiteSpace and LineTerminator.
const SPACE = CharSet.of([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
// `.` without the `s` flag: anything but a line terminator.
const DOT = CharSet.chars('\n\r\u2028\u2029').complement();
const SYNTAX_CHARACTERS = '^$\\.*+?()[]{}|/';

/** Parses `source` (compiled with `flags`), which must be anchored by `^` and `$`. */
export function parseAnchoredRegExp(source: string, flags: string): Expression {
  if (flags !== 'u') throw new UnsupportedRegExpError(`Flags "${flags}" are not supported.`);
  if (!source.startsWith('^') || !source.endsWith('$') || source.endsWith('\\$')) {
    throw new UnsupportedRegExpError('The expression is not anchored at both ends.');
  }
  const parser = new Parser(source.slice(1, -1));
  const expression = parser.disjunction();
  if (!parser.done) throw new UnsupportedRegExpError('Unbalanced parenthesis.');
  return expression;
}

class Parser {
  #position = 0;
  readonly #source: string;

  constructor(source: string) {
    this.#source = source;
  }

  get done(): boolean {
    return this.#position >= this.#source.length;
  }

  #peek(): string {
    return this.#source[this.#position] ?? '';
  }

  /** The next code point, consumed. */
  #take(): number {
    const code = this.#source.codePointAt(this.#position);
    if (code === undefined) throw new UnsupportedRegExpError('Unexpected end of expression.');
    this.#position += code > 0xffff ? 2 : 1;
    return code;
  }

  #eat(text: string): boolean {
    if (!this.#source.startsWith(text, this.#position)) return false;
    this.#position += text.length;
    return true;
  }

  disjunction(): Expression {
    const options = [this.#alternative()];
    while (this.#eat('|')) options.push(this.#alternative());
    return choice(...options);
  }

  #alternative(): Expression {
    const items: Expression[] = [];
    while (!this.done && this.#peek() !== '|' && this.#peek() !== ')') {
      items.push(this.#quantified(this.#atom()));
    }
    return sequence(...items);
  }

  #quantified(atom: Expression): Expression {
    let min: number;
    let max: number;
    const next = this.#peek();
    if (next === '*' || next === '+' || next === '?') {
      this.#position++;
      min = next === '+' ? 1 : 0;
      max = next === '?' ? 1 : Infinity;
    } else if (next === '{') {
      const bounds = /^\{(\d+)(,(\d*))?\}/.exec(
        this.#source.slice(this.#position, this.#position + 40),
      );
      if (bounds === null) return atom;
      this.#position += bounds[0].length;
      min = Number(bounds[1]);
      max = bounds[2] === undefined ? min : bounds[3] === '' ? Infinity : Number(bounds[3]);
      if (max < min) throw new UnsupportedRegExpError('A quantifier range is out of order.');
    } else {
      return atom;
    }
    this.#eat('?'); // lazy or greedy: the same language
    return repeat(atom, min, max);
  }

  #atom(): Expression {
    const char = this.#peek();
    switch (char) {
      case '(':
        return this.#group();
      case '[':
        return this.#class();
      case '.':
        this.#position++;
        return oneOf(DOT);
      case '\\':
        this.#position++;
        return this.#atomEscape();
      case '^':
      case '$':
        throw new UnsupportedRegExpError(`"${char}" inside the expression is not supported.`);
      case ')':
      case '*':
      case '+':
      case '?':
      case '{':
      case '}':
      case ']':
      case '|':
        throw new UnsupportedRegExpError(`Unexpected "${char}".`);
      default:
        return literal(String.fromCodePoint(this.#take()));
    }
  }

  #group(): Expression {
    this.#position++;
    if (this.#eat('?')) {
      if (this.#eat('<')) {
        if (this.#peek() === '=' || this.#peek() === '!') {
          throw new UnsupportedRegExpError('Lookbehind is not supported.');
        }
        const close = this.#source.indexOf('>', this.#position);
        if (close === -1) throw new UnsupportedRegExpError('Unterminated group name.');
        this.#position = close + 1;
      } else if (!this.#eat(':')) {
        throw new UnsupportedRegExpError('Lookahead and group modifiers are not supported.');
      }
    }
    const inner = this.disjunction();
    if (!this.#eat(')')) throw new UnsupportedRegExpError('Unterminated group.');
    return inner;
  }

  #atomEscape(): Expression {
    const char = this.#peek();
    if (/[1-9]/.test(char) || char === 'k') {
      throw new UnsupportedRegExpError('Backreferences are not supported.');
    }
    if (char === 'b' || char === 'B') {
      throw new UnsupportedRegExpError('Word-boundary assertions are not supported.');
    }
    const set = this.#classEscape();
    if (set !== undefined) return oneOf(set);
    return literal(String.fromCodePoint(this.#characterEscape()));
  }

  /** `\d`, `\D`, `\w`, `\W`, `\s`, `\S` (after the backslash), or undefined. */
  #classEscape(): CharSet | undefined {
    const char = this.#peek();
    const sets: Record<string, CharSet> = { d: DIGITS, w: WORD, s: SPACE };
    const set = sets[char.toLowerCase()];
    if (set === undefined) return undefined;
    this.#position++;
    return char === char.toLowerCase() ? set : set.complement();
  }

  /** A character escape (after the backslash): its code point. */
  #characterEscape(): number {
    const char = this.#peek();
    const controls: Record<string, number> = { f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };
    if (controls[char] !== undefined) {
      this.#position++;
      return controls[char];
    }
    if (char === 'p' || char === 'P') {
      throw new UnsupportedRegExpError('Unicode property escapes are not supported.');
    }
    if (char === 'c') {
      const letter = this.#source[this.#position + 1] ?? '';
      if (!/[A-Za-z]/.test(letter)) throw new UnsupportedRegExpError('Invalid control escape.');
      this.#position += 2;
      return letter.charCodeAt(0) % 32;
    }
    if (char === '0' && !/[0-9]/.test(this.#source[this.#position + 1] ?? '')) {
      this.#position++;
      return 0;
    }
    if (char === 'x') {
      const hex = /^x([0-9A-Fa-f]{2})/.exec(this.#source.slice(this.#position, this.#position + 3));
      if (hex === null) throw new UnsupportedRegExpError('Invalid \\x escape.');
      this.#position += 3;
      return parseInt(hex[1] ?? '', 16);
    }
    if (char === 'u') return this.#unicodeEscape();
    if (SYNTAX_CHARACTERS.includes(char) && char !== '') {
      this.#position++;
      return char.charCodeAt(0);
    }
    throw new UnsupportedRegExpError(`Unsupported escape "\\${char}".`);
  }

  #unicodeEscape(): number {
    const rest = this.#source.slice(this.#position, this.#position + 12);
    const braced = /^u\{([0-9A-Fa-f]{1,6})\}/.exec(rest);
    if (braced !== null) {
      const code = parseInt(braced[1] ?? '', 16);
      if (code > CharSet.MAX_CODE_POINT) throw new UnsupportedRegExpError('Invalid \\u{} escape.');
      this.#position += braced[0].length;
      return code;
    }
    const pair = /^u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})/i.exec(rest);
    if (pair !== null) {
      this.#position += 12;
      const high = parseInt(pair[1] ?? '', 16);
      const low = parseInt(pair[2] ?? '', 16);
      return (high - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
    }
    const single = /^u([0-9A-Fa-f]{4})/.exec(rest);
    if (single === null) throw new UnsupportedRegExpError('Invalid \\u escape.');
    this.#position += 5;
    return parseInt(single[1] ?? '', 16);
  }

  #class(): Expression {
    this.#position++;
    const negated = this.#eat('^');
    const pairs: [number, number][] = [];
    let set = CharSet.of([]);
    while (!this.#eat(']')) {
      if (this.done) throw new UnsupportedRegExpError('Unterminated character class.');
      const low = this.#classAtom();
      if (typeof low !== 'number') {
        set = set.union(low);
        continue;
      }
      if (this.#peek() === '-' && this.#source[this.#position + 1] !== ']') {
        this.#position++;
        const high = this.#classAtom();
        if (typeof high !== 'number' || high < low) {
          throw new UnsupportedRegExpError('Invalid character class range.');
        }
        pairs.push([low, high]);
      } else {
        pairs.push([low, low]);
      }
    }
    set = set.union(CharSet.of(pairs));
    return oneOf(negated ? set.complement() : set);
  }

  /** One class atom: a code point, or a set for `\d`-style escapes. */
  #classAtom(): number | CharSet {
    if (!this.#eat('\\')) return this.#take();
    if (this.#eat('b')) return 0x08;
    if (this.#eat('-')) return 0x2d;
    return this.#classEscape() ?? this.#characterEscape();
  }
}
