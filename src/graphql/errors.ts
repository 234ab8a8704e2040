import { GraphQLError } from 'graphql';
import { ValidationError, type AppError } from '../platform/errors.ts';

/**
 * Turns an expected failure on a query field (where no result union exists) into a GraphQL error
 * that yoga does not mask: the message, `extensions.code`, and for validation the field issues.
 */
export function toGraphQLError(error: AppError): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: {
      code: error.code,
      ...(error instanceof ValidationError ? { fields: error.issues.map((i) => ({ path: i.path, message: i.message })) } : {}),
    },
  });
}
