import { describe, expect, it } from 'vitest';
import { MAX_FUNCTION_LINES, measureFunctions } from '../../scripts/function-length.ts';

// scripts/function-length.ts (`npm run lint:functions`, ADR 0010) on in-memory sources.

/** A body of exactly `lines` lines: `{`, lines - 2 statements, `}`. */
function body(lines: number): string {
  return `{\n${'  void 0;\n'.repeat(lines - 2)}}`;
}

describe('measureFunctions', () => {
  it('counts a body from the line of its { to the line of its }, and names every kind of function', () => {
    const source = [
      '// leading comment',
      `export function declared(): void ${body(3)}`,
      `const arrow = () => ${body(4)};`,
      `const expressionBody = (a: number) =>\n  a +\n  1;`,
      `const expression = function () ${body(2)};`,
      `class Shape {\n  constructor() ${body(2)}\n  area(): number ${body(5)}\n  #secret() ${body(2)}\n  get size() ${body(2)}\n  handler = () => ${body(3)};\n}`,
      `const object = { method() ${body(2)}, 'quoted': () => ${body(2)}, set value(v: number) ${body(2)} };`,
      `later = () => ${body(2)};`,
      `[1].map((x) => ${body(3)});`,
      'export { arrow, expressionBody, expression, Shape, object };',
    ].join('\n');
    const found = measureFunctions(source).map(({ name, lines }) => `${name}:${lines}`);
    expect(found).toEqual([
      'declared:3',
      'arrow:4',
      'expressionBody:2',
      'expression:2',
      'constructor:2',
      'area:5',
      '#secret:2',
      'size:2',
      'handler:3',
      'method:2',
      'quoted:2',
      'value:2',
      'later:2',
      '(anonymous):3',
    ]);
  });

  it('reports the line a body starts on, past multi-byte characters, comments and earlier parses', () => {
    measureFunctions(`const warmUp = () => ${body(10)};`);
    const source = `const café = 'crème brûlée — ☕';\n/* a\n   comment */\n\nfunction late() ${body(3)}\n`;
    expect(measureFunctions(source)).toEqual([{ name: 'late', line: 5, lines: 3 }]);
  });

  it('counts nested functions inside the outer one, and each on its own', () => {
    const source = `function outer() {\n  const inner = () => ${body(MAX_FUNCTION_LINES)};\n  return inner;\n}`;
    expect(measureFunctions(source).map(({ name, lines }) => `${name}:${lines}`)).toEqual([`outer:${MAX_FUNCTION_LINES + 3}`, `inner:${MAX_FUNCTION_LINES}`]);
  });

  it('skips bodiless overload signatures and fails on a syntax error', () => {
    expect(measureFunctions(`function f(a: string): void;\nfunction f(a: unknown) ${body(2)}`)).toEqual([{ name: 'f', line: 2, lines: 2 }]);
    expect(() => measureFunctions('function broken( {')).toThrow();
  });
});
