// Adds up the test runners' own JSON reports and prints one line: "N passed, N failed".
// A missing report counts as nothing ran for that runner (the exit status tells why).
import fs from 'node:fs';

function read(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

let passed = 0;
let failed = 0;
const vitest = read('test-results/vitest.json');
if (vitest) {
  passed += vitest.numPassedTests ?? 0;
  failed += vitest.numFailedTests ?? 0;
  // A test file that failed to load has no failed tests of its own: count the file once.
  for (const file of vitest.testResults ?? []) {
    const anyFailed = (file.assertionResults ?? []).some((t) => t.status === 'failed');
    if (file.status === 'failed' && !anyFailed) failed += 1;
  }
}
const pw = read('test-results/playwright.json');
if (pw?.stats) {
  passed += (pw.stats.expected ?? 0) + (pw.stats.flaky ?? 0);
  failed += pw.stats.unexpected ?? 0;
}
console.log(`${passed} passed, ${failed} failed`);
