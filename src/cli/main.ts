// `canonical-auth`, the command-line tool: `explain` tells why a token is accepted or refused.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import type { AuthConfig } from '../core/config/config.js'
import { AuthConfigError } from '../core/config/errors.js'
import { type ConfigFlags, loadConfig, UsageError } from './config.js'
import { checkDirectory, parseHeader } from './directory-check.js'
import { checkDeployment } from './doctor.js'
import { explainToken } from './explain.js'
import {
  colorFor,
  EXIT,
  exitCodeOf,
  type Report,
  renderFailure,
  renderJson,
  renderText,
} from './report.js'

/** Where a run reads and writes, so that tests can run it in process too. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean | undefined }
  readonly stderr: { write(text: string): unknown }
  readonly stdin: AsyncIterable<string | Uint8Array> & { readonly isTTY?: boolean | undefined }
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
}

const USAGE = `Usage: canonical-auth <command> [options]

Commands:
  explain [token | -]        why canonical-auth accepts or refuses an access token
  doctor                     whether a deployment is configured right: tenants, keys, clock,
                             directory, cache store, discovery
  directory-check <baseUrl>  whether a user directory honours the wire contract

Options:
  -h, --help            this help (canonical-auth <command> --help: that command's)
  -v, --version         the version
`

const CONFIG_OPTIONS = `Configuration (one of):
  --config <file>       a module whose default export is the createAuth configuration, or a
                        function returning it (./auth.config.mjs)
  --domain <host>       an Auth0 tenant or custom domain
  --issuer <url>        any OpenID issuer (its key set from its metadata), or the exact iss
  --jwks-uri <url>      the key set URL, when it is neither of those
  --audience <id>       the API identifier; repeat it for several`

const EXPLAIN_USAGE = `Usage: canonical-auth explain [token | -] [options]

Runs every check canonical-auth makes on an access token, in order, each as a line marked pass,
fail or skip with the reason; then the verdict of canonical-auth itself. The token is read from
stdin when it is "-" or not given ("Authorization: ", "Bearer " and "DPoP " prefixes are dropped).

${CONFIG_OPTIONS}

Output:
  --json                one JSON document: { command, ok, summary, checks },
                        with error: usage | configuration | internal on exit code 2
  --resolve             then resolve it to the canonical user, as a login would: the trust
                        policy and the directory's answer (in ensure mode, that creates the user)
  --show-identities     print subs and emails in full (masked by default)
  -h, --help            this help

Exit codes: 0 accepted, 1 refused, 2 a usage or configuration error.
`

const DOCTOR_USAGE = `Usage: canonical-auth doctor [options]

Checks each part of a deployment its configuration names, the way canonical-auth uses it: each
tenant's metadata and key set (key count, algorithms, kids), this machine's clock against the
issuer's Date header, the user directory with the service credential (a lookup of a reserved
address), the shared cache store (an entry written, read back and deleted), and the discovery
sources. Parts that are not configured are skipped; each failure comes with a fix.

${CONFIG_OPTIONS}

Output:
  --json                one JSON document: { command, ok, summary, checks },
                        with error: usage | configuration | internal on exit code 2
  -h, --help            this help

Exit codes: 0 every check passed, 1 a check failed, 2 a usage or configuration error.
`

const DIRECTORY_CHECK_USAGE = `Usage: canonical-auth directory-check <baseUrl> [options]

Checks a live user directory against the wire contract canonical-auth's HTTP client speaks, each
rule a line marked pass, fail or skip: ensure creates (201) then answers the same user (200);
concurrent ensures for one new email create one user; ids are UUIDs, never the sub; lookup finds
what ensure created and answers 404 for an unknown email; emails that differ only in case are one
user; the service credential is required; malformed bodies are refused. It creates test users
under a reserved .test domain (RFC 6761), so it is safe against a staging directory.

Options:
  --header 'name: value'  the service credential, e.g. 'authorization: Bearer …'; repeatable.
                          With it, calls without it must be refused (else that rule is skipped)
  --domain <domain>       the test users' domain, under .test, .example, .invalid or example.com
                          (default canonical-auth-conformance.test)
  --json                  one JSON document: { command, ok, summary, note, checks },
                          with error: usage | configuration | internal on exit code 2
  -h, --help              this help

Exit codes: 0 every rule holds, 1 a rule is broken, 2 a usage error.
`

const COMMANDS = ['explain', 'doctor', 'directory-check']

const CONFIG_FLAGS = {
  config: { type: 'string' },
  domain: { type: 'string' },
  issuer: { type: 'string' },
  'jwks-uri': { type: 'string' },
  audience: { type: 'string', multiple: true },
} as const

/** Runs the tool with `args` (without `node` and the script); resolves to the exit code. */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      // Called with nothing: a usage error, so the usage goes where errors go.
      ;(command === undefined ? io.stderr : io.stdout).write(USAGE)
      return command === undefined ? EXIT.usage : EXIT.ok
    }
    if (command === '-v' || command === '--version') {
      io.stdout.write(`${version()}\n`)
      return EXIT.ok
    }
    if (command === 'explain') return await explain(rest, io)
    if (command === 'directory-check') return await directoryCheck(rest, io)
    if (command === 'doctor') return await doctor(rest, io)
    // Not quoted back when it may be a token or a credential pasted in the wrong place.
    throw new UsageError(
      /^[a-z][a-z-]{0,30}$/.test(command)
        ? `unknown command "${command}"`
        : `unknown command (${command.length} characters); to explain a token: canonical-auth explain <token>`,
    )
  } catch (error) {
    // With --json, a command that stops before its report still prints one document, so that a
    // CI step that parses stdout reads why rather than nothing.
    const failed = (kind: 'usage' | 'configuration' | 'internal', message: string): number => {
      if (COMMANDS.includes(command ?? '') && rest.includes('--json')) {
        io.stdout.write(renderFailure(command as string, kind, message))
      }
      return EXIT.usage
    }
    if (error instanceof UsageError) {
      const help = COMMANDS.includes(command ?? '')
        ? `canonical-auth ${command} --help`
        : 'canonical-auth --help'
      io.stderr.write(`canonical-auth: ${error.message}\nRun ${help} for usage.\n`)
      return failed('usage', error.message)
    }
    if (error instanceof AuthConfigError) {
      io.stderr.write(`${error.message}\n`)
      return failed('configuration', error.message)
    }
    // Its message may quote what it failed on (a URL with credentials, a token): the kind only.
    const kind = error instanceof Error ? error.name : typeof error
    io.stderr.write(`canonical-auth: failed unexpectedly (${kind})\n`)
    return failed('internal', `failed unexpectedly (${kind})`)
  }
}

async function explain(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(args, EXPLAIN_USAGE, io, {
    ...CONFIG_FLAGS,
    json: { type: 'boolean' },
    'show-identities': { type: 'boolean' },
    resolve: { type: 'boolean' },
  })
  if (parsed === undefined) return EXIT.ok
  const { values, positionals } = parsed
  if (positionals.length > 1) throw new UsageError('explain takes one token')
  const config = await neededConfig('explain', values, io)
  const token = await tokenFrom(positionals[0], io)
  const report = await explainToken(token, config, {
    showIdentities: values['show-identities'] === true,
    resolve: values.resolve === true,
  })
  return print(report, values.json === true, io)
}

async function doctor(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(args, DOCTOR_USAGE, io, {
    ...CONFIG_FLAGS,
    json: { type: 'boolean' },
  })
  if (parsed === undefined) return EXIT.ok
  const { values, positionals } = parsed
  if (positionals.length > 0) throw new UsageError('doctor takes no arguments, only options')
  const config = await neededConfig('doctor', values, io)
  return print(await checkDeployment(config), values.json === true, io)
}

async function directoryCheck(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(args, DIRECTORY_CHECK_USAGE, io, {
    header: { type: 'string', multiple: true },
    domain: { type: 'string' },
    json: { type: 'boolean' },
  })
  if (parsed === undefined) return EXIT.ok
  const { values, positionals } = parsed
  const [baseUrl, ...extra] = positionals
  if (baseUrl === undefined)
    throw new UsageError('directory-check needs the directory\u2019s base URL')
  if (extra.length > 0) throw new UsageError('directory-check takes one base URL')
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
    throw new UsageError('the base URL is not an http(s) URL')
  }
  const { username, password } = new URL(baseUrl)
  if (username !== '' || password !== '') {
    throw new UsageError(
      'the base URL carries a user or password: give the credential with --header',
    )
  }
  const headers: Record<string, string> = {}
  for (const text of values.header ?? []) {
    try {
      const [name, value] = parseHeader(text)
      headers[name] = value
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
  }
  const domain = values.domain
  if (domain !== undefined && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(domain)) {
    throw new UsageError(`--domain "${domain}" is not a domain name`)
  }
  let report: Report
  try {
    report = await checkDirectory({ baseUrl, headers, domain })
  } catch (error) {
    // The options runDirectoryConformance refuses (a domain that is not reserved).
    if (error instanceof TypeError)
      throw new UsageError(error.message.replace(/^runDirectoryConformance: /, '--'))
    throw error
  }
  return print(report, values.json === true, io)
}

/**
 * A command's options and positionals, with `-h`/`--help` for every command; `undefined` once
 * the command's `usage` has been printed for `--help`.
 */
function parseCommand<const O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  usage: string,
  io: CliIo,
  options: O,
) {
  let parsed: ReturnType<typeof parseWithHelp<O>>
  try {
    parsed = parseWithHelp(args, options)
  } catch (error) {
    // parseArgs names the option it did not know, or the one missing its value.
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    io.stdout.write(usage)
    return undefined
  }
  return parsed
}

function parseWithHelp<const O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: O,
) {
  return parseArgs({
    args: [...args],
    options: { ...options, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  })
}

/** The configuration `command` must have, from `--config` or the tenant flags. */
async function neededConfig(command: string, flags: ConfigFlags, io: CliIo): Promise<AuthConfig> {
  const config = await loadConfig(flags, io.cwd)
  if (config === undefined) {
    throw new UsageError(
      `${command} needs a configuration: --config <file>, or --domain/--issuer and --audience`,
    )
  }
  return config
}

/** The token from the argument, or from stdin; a pasted header's prefixes dropped. */
async function tokenFrom(argument: string | undefined, io: CliIo): Promise<string> {
  let text = argument
  if (text === undefined || text === '-') {
    if (text === undefined && io.stdin.isTTY === true) {
      throw new UsageError('no token: give it as an argument, or on stdin ("-")')
    }
    if (io.stdin.isTTY === true) io.stderr.write('Paste the token, then press Ctrl-D.\n')
    text = ''
    for await (const chunk of io.stdin) {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    }
  }
  const token = text
    .trim()
    .replace(/^authorization:\s*/i, '')
    .replace(/^(bearer|dpop)\s+/i, '')
  if (token === '') throw new UsageError('no token: the argument or stdin was empty')
  return token
}

function print(report: Report, json: boolean, io: CliIo): number {
  io.stdout.write(json ? renderJson(report) : renderText(report, colorFor(io.stdout, io.env)))
  return exitCodeOf(report)
}

/** The package's version, from the package.json above this file (src/cli or dist). */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let depth = 0; depth < 4; depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      if (manifest.name === 'canonical-auth') return String(manifest.version)
    } catch {
      // Not here: one directory up.
    }
    dir = dirname(dir)
  }
  return 'unknown'
}
