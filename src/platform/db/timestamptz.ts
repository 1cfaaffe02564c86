// A faster parser for `timestamptz` values. pg's default (postgres-date) runs
// three regular expressions and a split per value; a list of 50 contacts has
// 150 timestamps, and parsing them was 8% of the server's CPU on the
// reference read (bench/README.md, "Where the time goes"). PostgreSQL's ISO
// output has a fixed layout, read here by character codes; anything else
// (BC dates, years before 100, infinity, other DateStyles) goes to the
// original parser, and the result is the same Date either way
// (timestamptz.test.ts compares both on generated and real values).
import pg from 'pg';

const original = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (value: string) => Date | number | null;

const DASH = 45;
const COLON = 58;
const SPACE = 32;
const DOT = 46;
const PLUS = 43;

/** The two-digit number at `i`, or NaN. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/** `YYYY-MM-DD HH:MM:SS[.f…]±HH[:MM[:SS]]` (PostgreSQL's ISO DateStyle) as a Date. */
export function parseTimestamptz(s: string): Date | number | null {
  if (s.length < 22 || s.charCodeAt(4) !== DASH || s.charCodeAt(7) !== DASH || s.charCodeAt(10) !== SPACE || s.charCodeAt(13) !== COLON || s.charCodeAt(16) !== COLON) return original(s);
  const year = two(s, 0) * 100 + two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  // NaN fails every comparison: a non-digit anywhere above ends here too.
  if (!(year >= 100 && month >= 1 && day >= 1 && hour >= 0 && minute >= 0 && second >= 0)) return original(s);
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === DOT) {
    let digits = 0;
    let scale = 1;
    for (let c = s.charCodeAt(++i); c >= 48 && c <= 57 && scale < 1e15; c = s.charCodeAt(++i)) {
      digits = digits * 10 + c - 48;
      scale *= 10;
    }
    // postgres-date's arithmetic, 1000 × Number('.ddd'), without the substring: an
    // integer divided by a power of ten is the same correctly rounded double.
    ms = 1000 * (digits / scale);
  }
  const sign = s.charCodeAt(i);
  if (sign !== PLUS && sign !== DASH) return original(s);
  let offset = two(s, i + 1) * 3600;
  i += 3;
  if (s.charCodeAt(i) === COLON) {
    offset += two(s, i + 1) * 60;
    i += 3;
    if (s.charCodeAt(i) === COLON) {
      offset += two(s, i + 1);
      i += 3;
    }
  }
  if (i !== s.length || Number.isNaN(offset)) return original(s);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - (sign === DASH ? -offset : offset) * 1000);
}
