// Mocha entry of the integration suite, run inside VS Code's real extension host (the workbench loads it
// from ?payload=[["extensionTestsPath", …]]). Runs every bundled suites/*.test.js with the tdd UI and
// reports each result as a console line starting with REPORT_PREFIX, which test/integration/run.mjs
// reads back through window.codeAutomationLog.
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Prefix of the lines the driver parses; the last one is `RESULT {"passed":…,"failed":…,"skipped":…}`. */
export const REPORT_PREFIX = '[layerlens-it] ';

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

/** Prints one line per test and a final machine-readable RESULT line. */
class LineReporter extends Mocha.reporters.Base {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const say = (line: string) => console.log(REPORT_PREFIX + line);
    runner.on(EVENT_TEST_PASS, (t) => { counts.passed++; say(`  ✓ ${t.fullTitle()} (${t.duration ?? 0} ms)`); });
    runner.on(EVENT_TEST_PENDING, (t) => { counts.skipped++; say(`  - ${t.fullTitle()} (skipped)`); });
    runner.on(EVENT_TEST_FAIL, (t, err: Error) => {
      counts.failed++;
      say(`  ✗ ${t.fullTitle()}\n      ${String(err.stack ?? err).split('\n').slice(0, 8).join('\n      ')}`);
    });
    runner.once(EVENT_RUN_END, () => say(`RESULT ${JSON.stringify(counts)}`));
  }
}

/** Called by the extension host; rejects when any test failed. */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, reporter: LineReporter });
  const suites = join(__dirname, 'suites');
  for (const f of readdirSync(suites).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(join(suites, f));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
