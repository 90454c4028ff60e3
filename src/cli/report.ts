// What each command reports: a list of checks, each pass / fail / skip with its reason in plain
// words, printed for a terminal (aligned, coloured on a TTY unless NO_COLOR) or as one JSON
// document for CI.

/** How one check came out. `skip`: not configured, or a check it depends on failed. */
export type CheckStatus = 'pass' | 'fail' | 'skip'

/** One line of a report. */
export interface Check {
  /** A short name, such as `signature` or `key set`. */
  readonly name: string
  readonly status: CheckStatus
  /** What was found, in plain words. Never a whole token, email, sub or secret. */
  readonly detail: string
  /** For a failure: what to change. */
  readonly fix?: string | undefined
}

/** A command's result: its checks, and a last line that sums them up. */
export interface Report {
  readonly command: string
  /** A line printed under the title: what the command does that a user should know. */
  readonly note?: string | undefined
  readonly checks: readonly Check[]
  /** The verdict, for example `refused: token_expired (401)`. */
  readonly summary: string
}

/** Exit codes: every check passed (or was skipped), a check failed, a usage or configuration error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const

/** Whether a report passed: no check failed. */
export function passed(report: Report): boolean {
  return report.checks.every((check) => check.status !== 'fail')
}

/** The exit code a report ends the process with. */
export function exitCodeOf(report: Report): number {
  return passed(report) ? EXIT.ok : EXIT.failed
}

/**
 * Whether to colour output written to `stream`: on a TTY, unless `NO_COLOR` is set (to anything
 * but the empty string, as no-color.org asks); `FORCE_COLOR` colours anyway, and `FORCE_COLOR=0`
 * never, as Node's own output reads them.
 */
export function colorFor(
  stream: { readonly isTTY?: boolean | undefined },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0'
  return stream.isTTY === true
}

const STYLE = {
  pass: ['\u001b[32m', '\u001b[39m'],
  fail: ['\u001b[31m', '\u001b[39m'],
  skip: ['\u001b[2m', '\u001b[22m'],
  bold: ['\u001b[1m', '\u001b[22m'],
} as const

// Control characters (an escape sequence, a line break) in what a token or an upstream said would
// let it draw on the terminal, or fake a line of the report.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it replaces
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/** `text` with each control character shown as its escape (`\u001b`), never acted on. */
export function printable(text: string): string {
  return text.replace(CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** The report for a terminal: one aligned line per check, its fix below it, then the summary. */
export function renderText(report: Report, color: boolean): string {
  const paint = (style: keyof typeof STYLE, text: string) =>
    color ? `${STYLE[style][0]}${printable(text)}${STYLE[style][1]}` : printable(text)
  const width = Math.max(0, ...report.checks.map((check) => check.name.length))
  const lines = [paint('bold', `canonical-auth ${report.command}`), '']
  if (report.note !== undefined) lines.push(paint('skip', report.note), '')
  for (const check of report.checks) {
    const status = paint(check.status, check.status.padEnd(4))
    lines.push(`  ${status}  ${printable(check.name.padEnd(width))}  ${printable(check.detail)}`)
    if (check.fix !== undefined && check.status === 'fail') {
      lines.push(`  ${' '.repeat(4)}  ${' '.repeat(width)}  ${paint('skip', `fix: ${check.fix}`)}`)
    }
  }
  const counts = (['pass', 'fail', 'skip'] as const)
    .map((status) => `${report.checks.filter((check) => check.status === status).length} ${status}`)
    .join(', ')
  lines.push('', `${paint(passed(report) ? 'pass' : 'fail', report.summary)} (${counts})`, '')
  return lines.join('\n')
}

/** The report as one JSON document: `{ command, ok, summary, checks }`. */
export function renderJson(report: Report): string {
  const checks = report.checks.map(({ name, status, detail, fix }) =>
    fix === undefined ? { name, status, detail } : { name, status, detail, fix },
  )
  return `${JSON.stringify(
    {
      command: report.command,
      ok: passed(report),
      summary: report.summary,
      ...(report.note === undefined ? {} : { note: report.note }),
      checks,
    },
    null,
    2,
  )}\n`
}

/**
 * The JSON document of a command that stopped before its report (exit code 2): the report's shape
 * with no checks, and `error` saying whether the command line, the configuration or the tool
 * itself was at fault.
 */
export function renderFailure(
  command: string,
  error: 'usage' | 'configuration' | 'internal',
  message: string,
): string {
  return `${JSON.stringify({ command, ok: false, summary: message, error, checks: [] }, null, 2)}\n`
}
