import type { FieldIssue } from '../../../platform/errors.ts';
import type { Role } from '../../../platform/op-context.ts';
import { codePointsUpTo, textIssues } from '../../../platform/text.ts';

/** Pricing tiers, cheapest first. */
export const CUSTOMER_TIERS = ['BASIC', 'PREMIUM', 'ENTERPRISE'] as const;

/** A customer's pricing tier; it sets the discount applied to the customer's orders. */
export type CustomerTier = (typeof CUSTOMER_TIERS)[number];

/** Roles an account can hold (the viewer roles of the platform). */
export const CUSTOMER_ROLES = ['CUSTOMER', 'ADMIN'] as const satisfies readonly Role[];

/** Whole-percent discount per tier on an order's subtotal: the demo store's pricing policy, defined here only. */
export const TIER_DISCOUNT_PERCENT: Readonly<Record<CustomerTier, number>> = Object.freeze({
  BASIC: 0,
  PREMIUM: 10,
  ENTERPRISE: 20,
});

/** @returns the whole-percent discount (0–100) that `tier` gets on an order subtotal. */
export const discountPercentOf = (tier: CustomerTier): number => TIER_DISCOUNT_PERCENT[tier];

/** True when `value` is one of {@link CUSTOMER_TIERS} (for input that did not come through the GraphQL enum). */
export const isCustomerTier = (value: string): value is CustomerTier => (CUSTOMER_TIERS as readonly string[]).includes(value);

/** True when `value` is one of {@link CUSTOMER_ROLES}. */
export const isRole = (value: string): value is Role => (CUSTOMER_ROLES as readonly string[]).includes(value);

/** A customer account as the rest of the system sees it. The password hash never leaves persistence. */
export interface Customer {
  readonly id: string;
  /** Trimmed and lower-cased; unique. */
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly tier: CustomerTier;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * Input limits. E-mail: at most 254 characters in all and 64 before the `@` (RFC 5321 §4.5.3.1).
 * Password: NIST SP 800-63B §5.1.1.2 — at least 8 characters, no composition rules, and a maximum
 * of at least 64 (128 bounds the hashing work per request). Lengths count Unicode code points.
 */
export const CUSTOMER_LIMITS = {
  emailMaxLength: 254,
  emailLocalMaxLength: 64,
  passwordMinLength: 8,
  passwordMaxLength: 128,
  nameMaxLength: 100,
} as const;

/**
 * The HTML Living Standard's "valid e-mail address" (lower-case form), tightened to require a dotted
 * domain: deliberately permissive, because only a confirmation mail can prove an address.
 */
const EMAIL_PATTERN = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** @returns the stored form of an e-mail address: trimmed and lower-cased. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/**
 * @returns the form a password is hashed in: NFKC, so the same password typed on different
 * keyboards (composed or decomposed accents, full-width digits) matches (NIST SP 800-63B §5.1.1.2).
 */
export const normalizePassword = (password: string): string => password.normalize('NFKC');

/** @returns the issues of an e-mail address, checked in its normalized form (empty when valid). */
export function checkEmail(email: string): FieldIssue[] {
  const normalized = normalizeEmail(email);
  const local = normalized.slice(0, Math.max(0, normalized.lastIndexOf('@')));
  if (
    normalized.length > CUSTOMER_LIMITS.emailMaxLength ||
    local.length > CUSTOMER_LIMITS.emailLocalMaxLength ||
    !EMAIL_PATTERN.test(normalized)
  ) {
    return [{ path: ['email'], message: `must be an e-mail address of at most ${CUSTOMER_LIMITS.emailMaxLength} characters` }];
  }
  return [];
}

/**
 * @returns the issues of a normalized password's characters (empty when valid): at most
 * {@link CUSTOMER_LIMITS.passwordMaxLength}, and no control character or unpaired surrogate
 * (neither can be typed; a lone surrogate would hash as U+FFFD, the same as any other one).
 */
export const checkPasswordText = (normalized: string): FieldIssue[] => textIssues(normalized, ['password'], { maxLength: CUSTOMER_LIMITS.passwordMaxLength });

/** @returns the issues of a new password (empty when valid): its length, spaces included, and {@link checkPasswordText}. */
export function checkPassword(password: string): FieldIssue[] {
  const normalized = normalizePassword(password);
  const length = codePointsUpTo(normalized, CUSTOMER_LIMITS.passwordMaxLength);
  if (length < CUSTOMER_LIMITS.passwordMinLength || length > CUSTOMER_LIMITS.passwordMaxLength) {
    return [{ path: ['password'], message: `must be ${CUSTOMER_LIMITS.passwordMinLength}–${CUSTOMER_LIMITS.passwordMaxLength} characters` }];
  }
  return checkPasswordText(normalized);
}

/** @returns the issues of a display name, checked trimmed (empty when valid): 1–100 characters, one line, no control characters. */
export const checkName = (name: string): FieldIssue[] => textIssues(name.trim(), ['name'], { minLength: 1, maxLength: CUSTOMER_LIMITS.nameMaxLength });

/** @returns every issue of a new account's fields at once (empty when valid). */
export const checkNewAccount = (fields: { readonly email: string; readonly password: string; readonly name: string }): FieldIssue[] => [
  ...checkEmail(fields.email),
  ...checkPassword(fields.password),
  ...checkName(fields.name),
];
