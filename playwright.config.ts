import { defineConfig } from '@playwright/test';

/**
 * Browser end-to-end tests. They drive Debian's Chromium (never a downloaded browser) against
 * real server and terminal processes that each test starts on port 0 (see e2e/fixtures.ts).
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  // Builds out/node (tsc) and out/main, out/preload, out/renderer (electron-vite) first.
  globalSetup: './e2e/global-setup.ts',
  // Three workers, and tests (not files) shared out among them: each test drives its own processes
  // and browser (test-scoped fixtures, port 0, temp folders, nothing shared between tests). By
  // files, the largest (supervisor.spec.ts, 2.7 min of the 8.7 min of tests) set the pace. On the
  // quiet 2-core CI machine the run still took 4.2 min, as with two workers by files: there it is
  // CPU-bound. All 47 tests passed with three workers also at a load average of 12. A test's time
  // limit allows for the other workers' load.
  timeout: 90_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 3,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  outputDir: 'test-results/playwright',
  use: {
    browserName: 'chromium',
    headless: true,
    // Every wait is bounded: an action that cannot happen fails in seconds, not at the test timeout.
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    viewport: { width: 1280, height: 800 },
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
});
