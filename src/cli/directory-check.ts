// `canonical-auth directory-check`: the user-directory wire contract as a conformance suite
// against a live directory, each rule a line.
import { runDirectoryConformance } from '../testing/directory-conformance.js'
import type { Check, Report } from './report.js'

export interface DirectoryCheckOptions {
  readonly baseUrl: string
  readonly headers: Readonly<Record<string, string>>
  readonly domain?: string | undefined
}

/** Runs every rule of the wire contract against the directory at `baseUrl`. */
export async function checkDirectory(options: DirectoryCheckOptions): Promise<Report> {
  const report = await runDirectoryConformance(options)
  const checks: Check[] = report.results.map((result) => ({
    name: result.rule,
    status: result.skipped ? 'skip' : result.ok ? 'pass' : 'fail',
    detail: result.message,
  }))
  const broken = checks.filter((check) => check.status === 'fail').length
  // The first rule failed and every other one was skipped for it: nothing could be asked.
  const [first, ...rest] = report.results
  const unchecked = first?.ok === false && rest.every((result) => result.skipped)
  return {
    command: 'directory-check',
    note: `Creates test users under ${report.domain} (a reserved domain, RFC 6761; --domain to change it).`,
    checks,
    summary: unchecked
      ? 'the directory could not be checked: see the first line'
      : broken === 0
        ? 'the directory honours the wire contract'
        : `the directory breaks ${broken === 1 ? 'one rule' : `${broken} rules`} of the wire contract`,
  }
}

/** `name: value` as a header; the name lower-cased. Throws a plain Error for anything else. */
export function parseHeader(text: string): [name: string, value: string] {
  const colon = text.indexOf(':')
  const name = text.slice(0, colon).trim().toLowerCase()
  const value = text.slice(colon + 1).trim()
  // A header value is printable ASCII here (a credential): an ellipsis pasted from the help, or
  // a line break, would only make every request fail.
  if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || !/^[\x20-\x7e]+$/.test(value)) {
    // Not quoted back: what was given may be the credential itself.
    throw new Error("a --header is not a header: give it as 'name: value', in printable ASCII")
  }
  return [name, value]
}
