import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Refuses `__schema` and `__type` with graphql-js's own validation rule, on every transport.
 * (@graphql-yoga/plugin-disable-introspection decides per HTTP `Request`, which operations over
 * graphql-ws do not have, so introspection would stay open there.)
 */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
