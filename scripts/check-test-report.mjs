// Reads a vitest JSON report and fails when no test ran or any was skipped: CI runs them all.
// Usage: node scripts/check-test-report.mjs <report.json> [label]
import { readFileSync } from 'node:fs'

const [file, label = 'tests'] = process.argv.slice(2)
if (file === undefined) {
  console.error('usage: node scripts/check-test-report.mjs <report.json> [label]')
  process.exit(2)
}
const report = JSON.parse(readFileSync(file, 'utf8'))
if (report.numTotalTests === 0) {
  console.error(`${label}: no test ran`)
  process.exit(1)
}
const skipped = report.numPendingTests + report.numTodoTests
console.log(
  `${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`,
)
if (skipped > 0) {
  console.error(`${label}: a test was skipped; CI runs them all`)
  process.exit(1)
}
