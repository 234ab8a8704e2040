import type { DocumentNode } from 'graphql';

/** What yoga's parse cache stores values in (its `Cache` type is not exported). */
export interface DocumentCache<T> {
  get(key: string): T | undefined;
  set(key: string, value: T): void;
}

/**
 * yoga caches the parse result (or error) of up to 1,024 document texts for an hour, whatever
 * their size: a client sending a thousand distinct 64 KB documents would pin ~130 MB (measured by
 * test/security/adversarial-documents.test.ts). Here only texts up to `maxDocumentChars` (4× the
 * largest real operation, ~1 KB) are cached, at most `maxEntries` of them (real clients send a
 * few dozen); larger texts are parsed on every request, which the token limit keeps cheap.
 */
export function createDocumentCaches(options: { maxEntries: number; maxDocumentChars: number }): {
  documentCache: DocumentCache<DocumentNode>;
  errorCache: DocumentCache<unknown>;
} {
  // Least recently used first: a Map keeps insertion order, and a hit is re-inserted at the end.
  const bounded = <T>(): DocumentCache<T> => {
    const entries = new Map<string, T>();
    return {
      get(key) {
        const value = entries.get(key);
        if (value !== undefined) {
          entries.delete(key);
          entries.set(key, value);
        }
        return value;
      },
      set(key, value) {
        if (key.length > options.maxDocumentChars) return;
        entries.delete(key);
        entries.set(key, value);
        if (entries.size > options.maxEntries) entries.delete(entries.keys().next().value!);
      },
    };
  };
  return { documentCache: bounded<DocumentNode>(), errorCache: bounded<unknown>() };
}
