// Password policy (NIST SP 800-63B / OWASP ASVS 6.2): 12 to 128 characters,
// no composition rules, not a known common password, not a variation of the
// account's email. Returns the reasons a password is refused (empty: fine).
import { readFileSync } from 'node:fs';
import { distance } from 'fastest-levenshtein';

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;
/** Passwords within this edit distance of the email (or its local part) are refused (Ory Kratos uses 5). */
const MIN_DISTANCE_FROM_EMAIL = 5;

let common: Set<string> | undefined;
/** The shipped list (see the header of common-passwords.txt), loaded on first use. */
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#')),
  );
  return common;
}

export const commonPasswordCount = () => commonPasswords().size;

export function passwordProblems(password: string, email: string): string[] {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return [`must be at least ${PASSWORD_MIN} characters long`];
  if (length > PASSWORD_MAX) return [`must be at most ${PASSWORD_MAX} characters long`];
  const problems: string[] = [];
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) problems.push('is one of the most common passwords; choose another');
  const mail = email.trim().toLowerCase();
  const local = mail.split('@')[0] ?? '';
  const containsEmail = lower.includes(mail) || (local.length >= 4 && lower.includes(local));
  if (containsEmail || distance(lower, mail) < MIN_DISTANCE_FROM_EMAIL || distance(lower, local) < MIN_DISTANCE_FROM_EMAIL) {
    problems.push('is too close to your email address');
  }
  return problems;
}
