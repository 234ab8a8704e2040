import { DateTimeResolver } from 'graphql-scalars';
import { AppError, ForbiddenError, IdempotencyKeyReusedError, NotFoundError, UnauthenticatedError, ValidationError, type FieldIssue } from '../platform/errors.ts';
import { formatMinor, type Money } from '../platform/money.ts';
import type { Builder } from './builder.ts';

/**
 * Registers what every module shares: the DateTime scalar, Money, the `Error` interface with the
 * common error types, and `totalCount` on every connection. Returns the refs modules build on.
 */
export function registerCommonTypes(builder: Builder) {
  builder.addScalarType('DateTime', DateTimeResolver);
  builder.queryType({});
  builder.mutationType({});
  builder.subscriptionType({});

  builder.globalConnectionField('totalCount', (t) =>
    t.int({ description: 'Number of items matching the filter across all pages.', resolve: (parent) => parent.totalCount() }),
  );

  const MoneyRef = builder.objectRef<Money>('Money').implement({
    description: 'An exact amount of money. `amount` is a decimal string in major units ("19.99"), never a float.',
    fields: (t) => ({
      amount: t.string({ resolve: (money) => formatMinor(money.minor, money.currency) }),
      currency: t.exposeString('currency', { description: 'ISO 4217 code, e.g. "USD".' }),
    }),
  });

  const ErrorRef = builder.interfaceRef<AppError>('Error').implement({
    description: 'An expected failure returned as data. `code` is stable; switch on it, not on the message.',
    fields: (t) => ({
      message: t.exposeString('message'),
      code: t.exposeString('code'),
    }),
  });

  const FieldErrorRef = builder.objectRef<FieldIssue>('FieldError').implement({
    description: 'One invalid input value.',
    fields: (t) => ({
      path: t.stringList({ description: 'Path of the input field, e.g. ["lines", "2", "quantity"].', resolve: (issue) => [...issue.path] }),
      message: t.exposeString('message'),
    }),
  });

  builder.objectType(ValidationError, {
    name: 'ValidationError',
    description: 'VALIDATION_FAILED: the input breaks a rule; `fields` lists each offending field.',
    interfaces: [ErrorRef],
    isTypeOf: (value) => value instanceof ValidationError,
    fields: (t) => ({ fields: t.field({ type: [FieldErrorRef], resolve: (error) => [...error.issues] }) }),
  });
  builder.objectType(NotFoundError, {
    name: 'NotFoundError',
    description: 'NOT_FOUND: nothing with that id is visible to you.',
    interfaces: [ErrorRef],
    isTypeOf: (value) => value instanceof NotFoundError,
  });
  builder.objectType(ForbiddenError, {
    name: 'ForbiddenError',
    description: 'FORBIDDEN: your role does not allow this.',
    interfaces: [ErrorRef],
    isTypeOf: (value) => value instanceof ForbiddenError,
  });
  builder.objectType(UnauthenticatedError, {
    name: 'UnauthenticatedError',
    description: 'UNAUTHENTICATED: sign in first.',
    interfaces: [ErrorRef],
    isTypeOf: (value) => value instanceof UnauthenticatedError,
  });

  builder.objectType(IdempotencyKeyReusedError, {
    name: 'IdempotencyKeyReusedError',
    description: 'IDEMPOTENCY_KEY_REUSED: you already used this idempotency key for a different request (other input or another mutation); nothing was done. Use a new key per intended change.',
    interfaces: [ErrorRef],
    isTypeOf: (value) => value instanceof IdempotencyKeyReusedError,
  });

  const OrderDirection = builder.enumType('OrderDirection', { values: ['ASC', 'DESC'] as const });

  return { Money: MoneyRef, Error: ErrorRef, OrderDirection };
}

export type CommonRefs = ReturnType<typeof registerCommonTypes>;
