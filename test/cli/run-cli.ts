import { spawn } from 'node:child_process'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { main } from '../../src/cli/main.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
// tsx's loader by path: a run in another directory (a config module's) cannot name the package.
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href

/** What a run of the command-line tool printed, and how it exited. */
export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `canonical-auth` from source as its own process (Node with tsx, as `node dist/cli.js`
 * runs the build), with `stdin` written and closed, in `cwd`. The environment is this one's,
 * with colour settings removed unless `env` sets them.
 */
export function runCli(
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string>; cwd?: string } = {},
): Promise<CliRun> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: undefined,
    FORCE_COLOR: undefined,
  }
  Object.assign(env, options.env)
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', TSX, fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url)), ...args],
      { cwd: options.cwd ?? ROOT, env: env as NodeJS.ProcessEnv },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? '')
  })
}

/**
 * Runs the tool's `main` in this process, for the many ways of calling it wrongly: the same code
 * as {@link runCli} without a process per case.
 */
export async function runInProcess(args: readonly string[], stdin = ''): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from(stdin === '' ? [] : [stdin]),
    env: {},
    cwd: ROOT,
  })
  return { code, stdout, stderr }
}

/** A `--json` report, as the tool prints it. */
export interface JsonReport {
  readonly command: string
  readonly ok: boolean
  readonly summary: string
  readonly checks: ReadonlyArray<{ name: string; status: string; detail: string; fix?: string }>
}

/** Each check of a `--json` report as `name: status`, in order. */
export function statuses(report: JsonReport): string[] {
  return report.checks.map((check) => `${check.name}: ${check.status}`)
}

/** The check named `name` of a `--json` report. */
export function check(report: JsonReport, name: string): JsonReport['checks'][number] {
  const found = report.checks.find((candidate) => candidate.name === name)
  if (found === undefined) throw new Error(`no check named ${name}`)
  return found
}
