// Reads vitest's JSON report and fails when a test was skipped, left as todo, or none ran at all:
// under CI every test must run.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'test-results/vitest.json';
const report = JSON.parse(readFileSync(path, 'utf8'));
const skipped = [];
for (const file of report.testResults ?? []) {
  for (const test of file.assertionResults ?? []) {
    if (test.status === 'skipped' || test.status === 'pending' || test.status === 'todo' || test.status === 'disabled') {
      skipped.push(`${file.name}: ${test.fullName}`);
    }
  }
}
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
if (skipped.length > 0) {
  process.stderr.write(`Skipped tests are not allowed under CI:\n${skipped.map((s) => `  - ${s}`).join('\n')}\n`);
}
if ((report.numTotalTests ?? 0) === 0) process.stderr.write('No test ran.\n');
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped.length} skipped\n`);
process.exit(skipped.length > 0 || failed > 0 || (report.numTotalTests ?? 0) === 0 ? 1 : 0);
