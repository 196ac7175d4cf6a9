// The contract between test/run-all.mjs and each suite driver: the driver writes
// {passed, failed, skipped} as JSON to the file named by env SUITE_SUMMARY.
import { writeFileSync } from 'node:fs';

/** Writes a suite's counts to $SUITE_SUMMARY (when set) and prints them. */
export function writeSummary(name, { passed, failed, skipped }) {
  console.log(`${name}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (process.env.SUITE_SUMMARY) writeFileSync(process.env.SUITE_SUMMARY, JSON.stringify({ passed, failed, skipped }));
}
