// `npm run lint:functions` (a CI step): fails when a function in src/ (tests excluded) has a body
// longer than MAX_FUNCTION_LINES lines, listing each offender as `file:line name (N lines)`.
// ADR 0010: a function that long mixes several steps; extracting them gives each a name and a test.
import { globSync, readFileSync } from 'node:fs';
import { parseSync } from '@swc/core';

/** The longest body allowed, in lines, from the line of its `{` to the line of its `}`. */
export const MAX_FUNCTION_LINES = 80;

/** One function, method, constructor, accessor or arrow function found in a source file. */
export type FunctionLength = {
  /** Its own name, else the variable, property or key it is assigned to, else `(anonymous)`. */
  name: string;
  /** 1-based line where its body starts. */
  line: number;
  /** Lines its body spans, both ends included (an arrow's expression body counts the same way). */
  lines: number;
};

type Span = { start: number; end: number };
type AstNode = { type: string; span?: Span; [key: string]: unknown };

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** Node types with a body of their own; its length is what the rule measures. */
const FUNCTION_TYPES = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
  'MethodProperty',
  'GetterProperty',
  'SetterProperty',
  'Constructor',
  'ClassMethod',
  'PrivateMethod',
]);

/** A function's body: on the node itself, or on its `function` (methods, accessors); none for overloads. */
function bodyOf(node: AstNode): unknown {
  if (!FUNCTION_TYPES.has(node.type)) return undefined;
  return node.body ?? (node.function as { body?: unknown } | undefined)?.body;
}

/** A readable name for a property key or binding (`foo`, `'foo'`, `#foo`), or undefined. */
function nameOf(key: unknown): string | undefined {
  if (!isNode(key)) return undefined;
  if (key.type === 'Identifier' || key.type === 'StringLiteral' || key.type === 'BindingIdentifier') return String(key.value);
  if (key.type === 'PrivateName') return `#${String(key.value ?? nameOf(key.id) ?? '')}`;
  if (key.type === 'MemberExpression') return nameOf(key.property);
  if (key.type === 'Computed') return '[computed]';
  return undefined;
}

/** The name a function expression takes from where it is written (`const x = () => …`, `x: () => …`). */
function nameHintsOf(node: AstNode): Map<unknown, string> {
  const hints = new Map<unknown, string>();
  const add = (child: unknown, name: string | undefined) => {
    if (name !== undefined) hints.set(child, name);
  };
  if (node.type === 'VariableDeclarator') add(node.init, nameOf(node.id));
  if (node.type === 'KeyValueProperty' || node.type === 'ClassProperty' || node.type === 'PrivateProperty') add(node.value, nameOf(node.key));
  if (node.type === 'AssignmentExpression') add(node.right, nameOf(node.left));
  return hints;
}

/** Maps swc's span positions (1-based UTF-8 byte offsets into one parsed source) to 1-based lines. */
function lineLocator(source: string): (position: number) => number {
  const bytes = Buffer.from(source, 'utf8');
  const lineStarts = [0];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) lineStarts.push(i + 1);
  return (position) => {
    const offset = position - 1;
    if (offset < 0 || offset > bytes.length) {
      throw new Error(`swc span position ${position} lies outside the ${bytes.length}-byte source: spans are not file-relative`);
    }
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

/**
 * Every function-like in `source` (TypeScript), nested ones included and each counted whole
 * (an outer function's length includes the functions inside it). Throws on a syntax error.
 */
export function measureFunctions(source: string): FunctionLength[] {
  const lineAt = lineLocator(source);
  const found: FunctionLength[] = [];
  const visit = (value: unknown, hint: string | undefined): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, undefined);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const node = value as AstNode;
    const body = isNode(node) ? bodyOf(node) : undefined;
    if (isNode(body) && body.span) {
      const name = nameOf(node.identifier) ?? nameOf(node.key) ?? hint ?? '(anonymous)';
      const line = lineAt(body.span.start);
      // A span's end is exclusive: its last byte is at position end - 1.
      found.push({ name, line, lines: lineAt(body.span.end - 1) - line + 1 });
    }
    const hints = isNode(node) ? nameHintsOf(node) : new Map<unknown, string>();
    for (const [key, child] of Object.entries(node)) if (key !== 'span') visit(child, hints.get(child));
  };
  visit(parseSync(source, { syntax: 'typescript', target: 'es2024' }), undefined);
  return found;
}

/** An offender: a function over the limit, with the file (as given) it is in. */
export type LongFunction = FunctionLength & { file: string };

/** Functions in `files` whose body exceeds `limit` lines, longest first. */
export function findLongFunctions(files: readonly string[], limit = MAX_FUNCTION_LINES): LongFunction[] {
  return files
    .flatMap((file) => measureFunctions(readFileSync(file, 'utf8')).map((fn) => ({ ...fn, file })))
    .filter((fn) => fn.lines > limit)
    .sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
}

if (import.meta.main) {
  const files = globSync('src/**/*.ts')
    .filter((file) => !file.endsWith('.test.ts'))
    .sort();
  const offenders = findLongFunctions(files);
  if (offenders.length === 0) {
    console.log(`function-length: ${files.length} files, no function body over ${MAX_FUNCTION_LINES} lines.`);
  } else {
    console.error(`function-length: ${offenders.length} function bodies over ${MAX_FUNCTION_LINES} lines (split them into named steps):`);
    for (const fn of offenders) console.error(`  ${fn.file}:${fn.line} ${fn.name} (${fn.lines} lines)`);
    process.exitCode = 1;
  }
}
