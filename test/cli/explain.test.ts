import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import {
  createDpopKeyPair,
  createTestDirectory,
  createTestIssuer,
  type TestIssuer,
} from 'canonical-auth/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { b64, claimsFor, forge, nowSeconds, ssoToken, strangerKey } from '../helpers.js'
import { check, type JsonReport, runCli, runInProcess, statuses } from './run-cli.js'

// The command-line tool against a test issuer on loopback: as a process for what only a process
// shows (exit codes, stdin, colour, config modules, what reaches stdout and stderr), and through its
// `main` in this process for the many kinds of token.

let issuer: TestIssuer
let flags: string[]

beforeAll(async () => {
  issuer = await createTestIssuer()
  flags = ['--issuer', issuer.issuer, '--jwks-uri', issuer.jwksUri, '--audience', issuer.audience]
})
afterAll(() => issuer.close())

async function explain(
  token: string,
  extra: string[] = [],
): Promise<JsonReport & { code: number | null }> {
  // In process: the many token kinds need no process each; the process runs are below.
  const run = await runInProcess(['explain', token, ...flags, '--json', ...extra])
  expect(run.stderr).toBe('')
  return { ...(JSON.parse(run.stdout) as JsonReport), code: run.code }
}

/** The checks that did not pass, as `name: status`. */
const notPassed = (report: JsonReport) =>
  statuses(report).filter((line) => !line.endsWith(': pass'))

describe('canonical-auth explain', () => {
  it('passes every check of a valid token, and exits 0', async () => {
    const report = await explain(await issuer.sign())
    expect(report.code).toBe(0)
    expect(report.ok).toBe(true)
    expect(statuses(report)).toEqual([
      'size: pass',
      'shape: pass',
      'header: pass',
      'issuer: pass',
      'algorithm: pass',
      'key source: pass',
      'key set: pass',
      'key: pass',
      'signature: pass',
      'audience: pass',
      'not before: pass',
      'expiry: pass',
      'issued at: pass',
      'subject: pass',
      'verification: pass',
    ])
    expect(report.summary).toBe(`accepted: subject auth0|test… of ${issuer.issuer}`)
    expect(check(report, 'expiry').detail).toMatch(/^expires in (1 h|59 min \d+ s) \(20\d\d-/)
  })

  it('prints a report for a terminal: aligned lines, a fix under a failure, no colour in a pipe', async () => {
    const token = await issuer.sign({ exp: nowSeconds() - 600, iat: nowSeconds() - 1_200 })
    const run = await runCli(['explain', token, ...flags])
    expect(run.code).toBe(1)
    expect(run.stdout).not.toContain('\u001b[')
    expect(run.stdout).toMatch(/^canonical-auth explain\n\n {2}pass {2}size {10}\d+ characters/)
    expect(run.stdout).toMatch(
      /\n {2}fail {2}expiry {8}expired 10 min( \d+ s)? ago \(.+\), beyond the 5 s tolerance\n {22}fix: get a new token/,
    )
    expect(run.stdout).toMatch(/\nrefused: token_expired \(401\) \(\d+ pass, 2 fail, 0 skip\)\n$/)
  })

  it('colours on FORCE_COLOR, never with NO_COLOR', async () => {
    const token = await issuer.sign()
    const forced = await runCli(['explain', token, ...flags], { env: { FORCE_COLOR: '1' } })
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain('\u001b[32mpass\u001b[39m')
    const plain = await runCli(['explain', token, ...flags], {
      env: { FORCE_COLOR: '1', NO_COLOR: '1' },
    })
    expect(plain.stdout).not.toContain('\u001b[')
  })

  it('says an opaque token is what Auth0 issues without an audience', async () => {
    const report = await explain('Zx8fQ2vLm0aB7kPq')
    expect(report.code).toBe(1)
    expect(notPassed(report)).toEqual(['shape: fail', 'header: skip', 'verification: fail'])
    expect(check(report, 'shape').detail).toMatch(/opaque token.*no audience/)
    expect(check(report, 'shape').fix).toMatch(/audience/)
    expect(report.summary).toBe('refused: token_invalid (401)')
  })

  it('tells an encrypted token (five segments) and a token over the size limit', async () => {
    const jwe = await explain('eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aaaa.bbbb.cccc')
    expect(check(jwe, 'shape').detail).toMatch(/encrypted token \(JWE\)/)
    const long = await explain(`${'a'.repeat(9_000)}.b.c`)
    expect(notPassed(long)).toEqual([
      'size: fail',
      'shape: skip',
      'header: skip',
      'verification: fail',
    ])
    expect(check(long, 'size').detail).toBe(
      '9004 characters, over the 8192 allowed (maxTokenLength)',
    )
  })

  it('refuses a header that is not JSON', async () => {
    const report = await explain(`${b64('not json')}.${b64({ sub: 'x' })}.c2ln`)
    expect(notPassed(report)).toEqual(['header: fail', 'verification: fail'])
  })

  it('names an issuer that is not configured, and a trailing slash that differs', async () => {
    const other = await explain(await issuer.sign({ iss: 'https://other.example.com/' }))
    expect(check(other, 'issuer')).toMatchObject({
      status: 'fail',
      detail: `"https://other.example.com/" is not a configured issuer (configured: ${issuer.issuer})`,
    })
    expect(notPassed(other)).toEqual([
      'issuer: fail',
      'algorithm: skip',
      'key source: skip',
      'key set: skip',
      'key: skip',
      'signature: skip',
      'claims: skip',
      'verification: fail',
    ])
    const slash = await explain(await issuer.sign({ iss: issuer.issuer.slice(0, -1) }))
    expect(check(slash, 'issuer').fix).toMatch(/trailing slash/)
  })

  it('refuses HS256 and none as algorithms never accepted', async () => {
    const claims = claimsFor(issuer)
    const hs = await forge(
      { alg: 'HS256', kid: issuer.kid },
      claims,
      new TextEncoder().encode('secret'),
    )
    const hsReport = await explain(hs)
    expect(check(hsReport, 'algorithm')).toMatchObject({
      status: 'fail',
      detail: 'HS256 is signed with a shared secret, never accepted',
    })
    expect(hsReport.code).toBe(1)
    const unsigned = await explain(`${b64({ alg: 'none' })}.${b64(claims)}.`)
    expect(check(unsigned, 'shape').detail).toBe(
      'no signature: an unsigned token (alg "none"), never accepted',
    )
    expect(unsigned.code).toBe(1)
    const none = await explain(`${b64({ alg: 'none', kid: issuer.kid })}.${b64(claims)}.c2ln`)
    expect(check(none, 'algorithm')).toMatchObject({
      status: 'fail',
      detail: 'none: an unsigned token, never accepted',
    })
    expect(check(none, 'verification').status).toBe('fail')
  })

  it('refuses a header that chooses its own key, on a line of its own', async () => {
    const report = await explain(
      await issuer.sign({}, { header: { jku: 'https://attacker.example/jwks' } }),
    )
    expect(notPassed(report)).toEqual([
      'key source: fail',
      'key: skip',
      'signature: skip',
      'verification: fail',
    ])
    expect(check(report, 'key source').detail).toBe(
      'the header carries jku: a token may not choose the key it is checked with',
    )
  })

  it('prints what a token says as text, never as terminal control', async () => {
    const report = await runCli([
      'explain',
      await issuer.sign({ iss: 'https://x/\n  pass  verification  forged\u001b[2J' }),
      ...flags,
    ])
    expect(report.stdout).not.toContain('\u001b')
    expect(report.stdout).not.toMatch(/\n {2}pass {2}verification {2}forged/)
    expect(report.stdout).toContain('forged\\u001b[2J')
  })

  it('never quotes back a token given where a command goes', async () => {
    const token = await issuer.sign()
    const run = await runInProcess([token])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      `unknown command (${token.length} characters); to explain a token: canonical-auth explain <token>`,
    )
    expect(run.stderr).not.toContain(token.split('.')[1])
  })

  it('says when the kid is not in the key set, and when the signature does not verify', async () => {
    const unknownKid = await issuer.sign({}, { header: { kid: 'rotated-out' } })
    const kid = await explain(unknownKid)
    expect(check(kid, 'key')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^kid "rotated-out" is not in the key set/),
    })
    expect(check(kid, 'signature').status).toBe('skip')

    const claims = claimsFor(issuer)
    const forged = await forge({ alg: 'RS256', kid: issuer.kid }, claims, await strangerKey())
    const signature = await explain(forged)
    expect(notPassed(signature)).toEqual(['signature: fail', 'verification: fail'])
    expect(signature.summary).toBe('refused: token_invalid (401)')
  })

  it('explains each claim refused: audience, expiry, not before, issued in the future or too long ago', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ aud: 'https://other.example.com' }, 'audience', /is not this API's/],
      [
        { exp: nowSeconds() - 3_600, iat: nowSeconds() - 7_200 },
        'expiry',
        /^expired 1 h( \d+ s)? ago/,
      ],
      [{ nbf: nowSeconds() + 600 }, 'not before', /^valid only in (9|10) min/],
      [{ iat: nowSeconds() + 600, exp: nowSeconds() + 4_000 }, 'issued at', /in the future/],
      [{ iat: nowSeconds() - 90_000 }, 'issued at', /older than maxTokenAgeSeconds \(1 d\)/],
    ]
    for (const [claims, failing, detail] of cases) {
      const report = await explain(await issuer.sign(claims, { expiresIn: 3_600 }))
      expect(notPassed(report), failing).toEqual([`${failing}: fail`, 'verification: fail'])
      expect(check(report, failing).detail).toMatch(detail)
    }
  })

  it('fails the key set line when the key set cannot be fetched', async () => {
    const token = await issuer.sign()
    issuer.fail('5xx')
    try {
      const report = await explain(token)
      expect(check(report, 'key set')).toMatchObject({
        status: 'fail',
        detail: `${issuer.jwksUri} answered HTTP 500`,
      })
      expect(report.summary).toBe('refused: jwks_unavailable (503)')
    } finally {
      issuer.fail(null)
    }
  })

  it('reports a DPoP-bound token as bound, and verifies it', async () => {
    const client = await createDpopKeyPair()
    const report = await explain(await issuer.sign({}, { dpop: client.publicJwk }))
    expect(check(report, 'binding').detail).toMatch(/DPoP proof/)
    expect(report.ok).toBe(true)
  })

  it('masks the sub unless --show-identities, and never prints the token', async () => {
    const token = await issuer.sign({ sub: 'samlp|acme-waad|ada-lovelace-1815' })
    const masked = await runCli(['explain', token, ...flags])
    expect(masked.stdout).toContain('samlp|acme-waad|ada-…')
    expect(masked.stdout).not.toContain('ada-lovelace-1815')
    for (const segment of token.split('.')) expect(masked.stdout).not.toContain(segment)
    const shown = await runCli(['explain', token, ...flags, '--show-identities'])
    expect(shown.stdout).toContain('samlp|acme-waad|ada-lovelace-1815')
  })

  it('reads the token from stdin, with "-" or none, dropping a pasted header\u2019s prefixes', async () => {
    const token = await issuer.sign()
    for (const [args, stdin] of [
      [['-'], `${token}\n`],
      [[], `Authorization: Bearer ${token}\n`],
      [['-'], `DPoP ${token}`],
    ] as const) {
      const run = await runCli(['explain', ...args, ...flags, '--json'], { stdin })
      expect(run.code).toBe(0)
      expect((JSON.parse(run.stdout) as JsonReport).ok).toBe(true)
    }
  })

  it('on a terminal, says how to end a token pasted on stdin', async () => {
    const token = await issuer.sign()
    let stderr = ''
    const code = await main(['explain', '-', ...flags, '--json'], {
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      stdin: Object.assign(Readable.from([`${token}\n`]), { isTTY: true }),
      env: {},
      cwd: process.cwd(),
    })
    expect(code).toBe(0)
    expect(stderr).toBe('Paste the token, then press Ctrl-D.\n')
  })

  it('takes a config module: a default export, or a function returning the configuration', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'canonical-auth-cli-'))
    try {
      const auth0 = JSON.stringify({
        issuer: issuer.issuer,
        jwksUri: issuer.jwksUri,
        audience: issuer.audience,
      })
      await writeFile(join(dir, 'object.mjs'), `export default { auth0: ${auth0} }\n`)
      await writeFile(
        join(dir, 'function.mjs'),
        `export default async () => ({ auth0: ${auth0} })\n`,
      )
      const token = await issuer.sign()
      for (const file of ['object.mjs', 'function.mjs']) {
        const run = await runCli(['explain', token, '--config', `./${file}`], { cwd: dir })
        expect(run.code, `${file}: ${run.stdout}${run.stderr}`).toBe(0)
      }
      await writeFile(
        join(dir, 'invalid.mjs'),
        'export default { auth0: { domain: "x.auth0.com" } }\n',
      )
      const invalid = await runCli(['explain', token, '--config', 'invalid.mjs'], { cwd: dir })
      expect(invalid.code).toBe(2)
      expect(invalid.stderr).toMatch(/^canonical-auth: invalid configuration:\n.*audience/s)
      // A config function that throws: its kind, never its message (it may quote a secret).
      await writeFile(
        join(dir, 'throws.mjs'),
        'export default () => { throw new Error("postgres://svc:hunter2@db/users unreachable") }\n',
      )
      const throws = await runCli(['explain', token, '--config', 'throws.mjs'], { cwd: dir })
      expect(throws.code).toBe(2)
      expect(throws.stderr).toContain('--config throws.mjs: its default export threw (Error)')
      expect(throws.stderr).not.toContain('hunter2')
      // A module that exists but imports a package that does not.
      await writeFile(
        join(dir, 'imports.mjs'),
        'import "no-such-package-here"\nexport default {}\n',
      )
      const imports = await runCli(['explain', token, '--config', 'imports.mjs'], { cwd: dir })
      expect(imports.stderr).toMatch(
        /--config imports\.mjs: failed to load \(Cannot find package 'no-such-package-here'/,
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('with --resolve, says what the trust policy and the directory make of it', async () => {
    const directory = await createTestDirectory()
    const dir = await mkdtemp(join(tmpdir(), 'canonical-auth-cli-'))
    try {
      const auth0 = JSON.stringify({
        issuer: issuer.issuer,
        jwksUri: issuer.jwksUri,
        audience: issuer.audience,
      })
      await writeFile(
        join(dir, 'auth.config.mjs'),
        `export default { auth0: ${auth0}, directory: { baseUrl: ${JSON.stringify(directory.baseUrl)}, retries: 0 }, trust: { trustedConnections: { 'acme-waad': ['acme.com'] } } }\n`,
      )
      const resolveWith = async (token: string) => {
        const run = await runCli(
          ['explain', token, '--config', 'auth.config.mjs', '--resolve', '--json'],
          { cwd: dir },
        )
        return { code: run.code, report: JSON.parse(run.stdout) as JsonReport, stdout: run.stdout }
      }
      const first = await resolveWith(await ssoToken(issuer, 'ada'))
      expect(first.code).toBe(0)
      const id = directory.users.get('ada@acme.com')?.id
      expect(check(first.report, 'trust').detail).toBe(
        'linked through the trust policy, by email a***@acme.com',
      )
      expect(check(first.report, 'directory').detail).toBe(`user ${id}, created on this call`)
      expect(first.report.summary).toBe(`resolved: user ${id}`)
      expect(first.stdout).not.toContain('ada@acme.com')

      const untrusted = await resolveWith(
        await ssoToken(issuer, { sub: 'samlp|other-idp|ada', email_verified: false }),
      )
      expect(untrusted.code).toBe(1)
      expect(statuses(untrusted.report).slice(-3)).toEqual([
        'verification: pass',
        'trust: fail',
        'directory: skip',
      ])
      expect(check(untrusted.report, 'trust').detail).toMatch(/^identity_untrusted \(403\)/)

      directory.fail('5xx')
      const down = await resolveWith(await ssoToken(issuer, 'grace'))
      expect(statuses(down.report).slice(-2)).toEqual(['trust: pass', 'directory: fail'])
      expect(check(down.report, 'directory').detail).toMatch(/^directory_unavailable \(502\)/)
      expect(down.stdout).not.toContain('internal')

      const flagsOnly = await runCli([
        'explain',
        await issuer.sign(),
        ...flags,
        '--resolve',
        '--json',
      ])
      expect(statuses(JSON.parse(flagsOnly.stdout) as JsonReport).slice(-2)).toEqual([
        'trust: skip',
        'directory: skip',
      ])
    } finally {
      await directory.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('answers usage mistakes with exit code 2 and a pointer to --help', async () => {
    const token = await issuer.sign()
    const mistakes: Array<[string[], RegExp]> = [
      [['explain', token], /needs a configuration/],
      [['explain', token, '--domain'], /argument missing/],
      [['explain', token, '--audience', 'x'], /--domain or --issuer/],
      [['explain', token, '--domain', 'x.auth0.com'], /--audience is needed/],
      [['explain', token, ...flags, '--config', 'a.mjs'], /either --config or the tenant flags/],
      [['explain', token, ...flags, '--colour'], /Unknown option '--colour'/],
      [['explain', token, token, ...flags], /one token/],
      [['explain', '-', ...flags], /no token/],
      [['explain', token, '--config', 'missing.mjs'], /--config missing.mjs: not found/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ]
    for (const [args, message] of mistakes) {
      const run = await runInProcess(args)
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stderr).toMatch(message)
      expect(run.stderr).toMatch(/Run canonical-auth (explain )?--help for usage\.\n$/)
      expect(run.stdout).toBe('')
    }
  })

  it('exits 2 from the process too, its message on stderr', async () => {
    const run = await runCli(['explain', await issuer.sign()])
    expect(run).toMatchObject({ code: 2, stdout: '' })
    expect(run.stderr).toBe(
      'canonical-auth: explain needs a configuration: --config <file>, or --domain/--issuer and --audience\nRun canonical-auth explain --help for usage.\n',
    )
  })

  it('prints one JSON document with --json when a command stops before its report', async () => {
    const documentOf = (stdout: string) =>
      JSON.parse(stdout) as { command: string; ok: boolean; summary: string; error: string }
    const usage = await runInProcess(['explain', 'a.b.c', 'extra', '--json'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('explain takes one token')
    expect(documentOf(usage.stdout)).toEqual({
      command: 'explain',
      ok: false,
      summary: 'explain takes one token',
      error: 'usage',
      checks: [],
    })
    const url = await runInProcess(['directory-check', 'ftp://directory', '--json'])
    expect(url.code).toBe(2)
    expect(documentOf(url.stdout)).toMatchObject({
      command: 'directory-check',
      ok: false,
      error: 'usage',
    })
    const configuration = await runInProcess([
      'doctor',
      '--issuer',
      'http://issuer.example.com/',
      '--audience',
      'https://api.example.com',
      '--json',
    ])
    expect(configuration.code).toBe(2)
    expect(configuration.stderr).toContain('invalid configuration')
    expect(documentOf(configuration.stdout)).toMatchObject({
      command: 'doctor',
      ok: false,
      summary: expect.stringContaining('auth0.issuer'),
      error: 'configuration',
    })
    // Without --json the document is not printed; stdout stays empty for a usage error.
    const plain = await runInProcess(['explain', 'a.b.c', 'extra'])
    expect(plain.code).toBe(2)
    expect(plain.stdout).toBe('')
  })

  it('prints help and the version', async () => {
    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: canonical-auth <command>/)
    const explainHelp = await runCli(['explain', '--help'])
    expect(explainHelp.stdout).toMatch(
      /Exit codes: 0 accepted, 1 refused, 2 a usage or configuration error/,
    )
    const none = await runInProcess([])
    expect(none.code).toBe(2)
    const version = await runCli(['--version'])
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/)
  })
})
