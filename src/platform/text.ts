import type { FieldIssue } from './errors.ts';

/** How one text input is checked by {@link textIssue}. */
export interface TextRule {
  /** Most characters (Unicode code points) allowed. */
  readonly maxLength: number;
  /** Fewest characters; a value of only white space counts as empty. Default 0. */
  readonly minLength?: number;
  /** Line breaks (LF, CR) and tabs are allowed: descriptions, reasons. Default false. */
  readonly multiline?: boolean;
}

// C0 controls (U+0000–U+001F), DEL and the C1 controls (U+007F–U+009F): nobody types them, NUL
// cannot be stored in PostgreSQL text at all ("invalid byte sequence for encoding UTF8: 0x00"),
// and the others corrupt logs, terminals and CSV exports. Multi-line text keeps TAB, LF and CR.
const SINGLE_LINE_FORBIDDEN = /[\u0000-\u001F\u007F-\u009F]/;
const MULTI_LINE_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * The number of Unicode code points of `value`, counting no further than `limit + 1` (enough to
 * tell "over the limit"), so that a megabyte-long string costs no more than a short one.
 */
export function codePointsUpTo(value: string, limit: number): number {
  // A code point takes one or two UTF-16 units, so a string of more than 2 × (limit + 1) units
  // has more than `limit` code points: no need to walk it.
  if (value.length > 2 * (limit + 1)) return limit + 1;
  let count = 0;
  for (const _ of value) {
    count += 1;
    if (count > limit) break;
  }
  return count;
}

/**
 * Checks one text input before it goes anywhere near SQL: well-formed Unicode (no unpaired
 * surrogate, which would be stored as U+FFFD), no control character (NUL above all), and a length
 * in code points within the rule. The one place the text rule lives (docs/security.md, "String
 * inputs"); each domain sets its own lengths.
 * @param value the text as it will be stored (trimmed first where the domain trims).
 * @param path the input field path reported to the client, e.g. `["input", "reason"]`.
 * @returns the issue, or undefined when the value is acceptable.
 */
export function textIssue(value: string, path: readonly string[], rule: TextRule): FieldIssue | undefined {
  const min = rule.minLength ?? 0;
  const length = codePointsUpTo(value, rule.maxLength);
  if (length > rule.maxLength || (min > 0 && (length < min || value.trim().length === 0))) {
    const message = min > 0 ? `must be ${min}–${rule.maxLength} characters` : `must be at most ${rule.maxLength} characters`;
    return { path, message };
  }
  if ((rule.multiline ? MULTI_LINE_FORBIDDEN : SINGLE_LINE_FORBIDDEN).test(value) || !value.isWellFormed()) {
    return { path, message: `must not contain control characters${rule.multiline ? ' other than tabs and line breaks' : ''} (such as U+0000) or unpaired surrogates` };
  }
  return undefined;
}

/** {@link textIssue} as a list, for rule checkers that collect every issue at once. */
export const textIssues = (value: string, path: readonly string[], rule: TextRule): FieldIssue[] => {
  const issue = textIssue(value, path, rule);
  return issue ? [issue] : [];
};
