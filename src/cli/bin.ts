#!/usr/bin/env node
// The `canonical-auth` executable (package.json `bin`).
import { main } from './main.js'

main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
}).then((code) => {
  // Exits once the output is written: what a config module opened (a Redis client, a database
  // pool) would otherwise keep the process alive after the report.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)))
})
