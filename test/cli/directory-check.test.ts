import { createTestDirectory, runDirectoryConformance } from 'canonical-auth/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../examples/user-directory/database.js'
import { type DirectoryServer, startDirectoryServer } from '../../examples/user-directory/server.js'
import { createUserStore } from '../../examples/user-directory/store.js'
import { type Defect, startBrokenDirectory } from './broken-directory.js'
import { type JsonReport, runCli, runInProcess, statuses } from './run-cli.js'

// The wire contract as a conformance suite against live directories: the example directory (on
// PGlite) and the testing kit's pass it; a directory broken in each way fails the rule it breaks.

const CREDENTIAL = ['--header', 'authorization: Bearer svc']
const RULES = [
  'ensure creates a new user',
  'ensure is idempotent',
  'ids are UUIDs, never the sub',
  '100 concurrent ensures create one user',
  'lookup finds what ensure created',
  'lookup answers 404 for an unknown email',
  'emails that canonicalise the same are one user',
  'the service credential is required',
  'malformed bodies are refused with 400 or 422',
]

describe('canonical-auth directory-check against the example directory', () => {
  let database: Awaited<ReturnType<typeof openDatabase>>
  let server: DirectoryServer
  beforeAll(async () => {
    // PGlite in this process: no DATABASE_URL.
    database = await openDatabase({})
    const store = createUserStore(database.db)
    await store.migrate()
    server = await startDirectoryServer({ store, token: 'svc' })
  })
  afterAll(async () => {
    await server?.close()
    await database?.close()
  })

  it('passes every rule, with the credential, and says where its users go', async () => {
    const run = await runCli(['directory-check', server.url, ...CREDENTIAL])
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.stdout).toContain(
      'Creates test users under canonical-auth-conformance.test (a reserved domain, RFC 6761; --domain to change it).',
    )
    for (const rule of RULES) expect(run.stdout).toMatch(new RegExp(`\\n {2}pass {2}${rule}`))
    expect(run.stdout).toMatch(
      /\nthe directory honours the wire contract \(9 pass, 0 fail, 0 skip\)\n$/,
    )
  })

  it('is runDirectoryConformance in a test suite, with users under another domain', async () => {
    const report = await runDirectoryConformance({
      baseUrl: server.url,
      headers: { authorization: 'Bearer svc' },
      domain: 'staging.example.test',
      concurrency: 20,
    })
    expect(report).toMatchObject({ passed: true, domain: 'staging.example.test' })
    expect(report.results.map((result) => result.ok)).toEqual(Array(9).fill(true))
    const { rows } = await database.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM users WHERE email LIKE '%@staging.example.test'",
    )
    // The user of the main rules, and the one of the concurrent ensures.
    expect(rows[0]?.n).toBe(2)
  })

  it('fails every rule that needs the directory when the credential is wrong', async () => {
    const run = await runCli([
      'directory-check',
      server.url,
      '--header',
      'authorization: Bearer nope',
      '--json',
    ])
    expect(run.code).toBe(1)
    const report = JSON.parse(run.stdout) as JsonReport
    expect(report.checks[0]).toMatchObject({
      status: 'fail',
      detail: 'ensure answered 401: the directory refused the credential',
    })
    // Every other rule would fail for that one reason: skipped, saying so.
    expect(statuses(report).slice(1)).toEqual(RULES.slice(1).map((rule) => `${rule}: skip`))
    expect(report.checks[1]?.detail).toBe('not checked: the directory refused the credential (401)')
  })
})

describe('canonical-auth directory-check against the testing kit\u2019s directory', () => {
  it('passes, the credential rule skipped as none is configured', async () => {
    const directory = await createTestDirectory()
    try {
      const report = await runDirectoryConformance({ baseUrl: directory.baseUrl, concurrency: 20 })
      expect(report.results.filter((result) => !result.ok)).toEqual([])
      expect(report.results.find((result) => result.skipped)).toMatchObject({
        rule: 'the service credential is required',
      })
    } finally {
      await directory.close()
    }
  })
})

describe('canonical-auth directory-check against broken directories', () => {
  const cases: Array<[Defect, string, RegExp]> = [
    ['not idempotent', 'ensure is idempotent', /created a user again/],
    ['sub as id', 'ensure creates a new user', /answered the auth0_sub as the id/],
    [
      'found for unknown',
      'lookup answers 404 for an unknown email',
      /answered 200 for an email nobody has/,
    ],
    ['case sensitive', 'emails that canonicalise the same are one user', /created a second user/],
    [
      'accepts anything',
      'malformed bodies are refused with 400 or 422',
      /answered 200; it must answer 400/,
    ],
    [
      'no credential check',
      'the service credential is required',
      /without the credential answered 20[01]/,
    ],
    ['duplicates under concurrency', '100 concurrent ensures create one user', /made \d+ users/],
  ]

  it.each(cases)(
    'names the broken rule of a directory that is %s',
    async (defect, rule, message) => {
      const directory = await startBrokenDirectory([defect])
      try {
        const run = await runInProcess(['directory-check', directory.url, ...CREDENTIAL, '--json'])
        expect(run.code).toBe(1)
        const report = JSON.parse(run.stdout) as JsonReport
        const failing = report.checks.filter((check) => check.status === 'fail')
        expect(failing.map((check) => check.name)).toContain(rule)
        expect(failing.find((check) => check.name === rule)?.detail).toMatch(message)
        expect(report.summary).toMatch(
          /^the directory breaks (one rule|\d+ rules) of the wire contract$/,
        )
      } finally {
        await directory.close()
      }
    },
  )

  it('names one line per broken rule of a directory broken every way at once', async () => {
    const directory = await startBrokenDirectory([
      'not idempotent',
      'found for unknown',
      'accepts anything',
      'no credential check',
    ])
    try {
      const run = await runCli(['directory-check', directory.url, ...CREDENTIAL, '--json'])
      const report = JSON.parse(run.stdout) as JsonReport
      expect(statuses(report).filter((line) => line.endsWith(': fail'))).toEqual(
        expect.arrayContaining([
          'ensure is idempotent: fail',
          'lookup answers 404 for an unknown email: fail',
          'the service credential is required: fail',
          'malformed bodies are refused with 400 or 422: fail',
        ]),
      )
    } finally {
      await directory.close()
    }
  })

  it('answers an unreachable directory with one line per rule, and exit code 1', async () => {
    const directory = await startBrokenDirectory([])
    await directory.close()
    const run = await runCli(['directory-check', directory.url, '--json'])
    expect(run.code).toBe(1)
    const report = JSON.parse(run.stdout) as JsonReport
    expect(report.checks[0]).toMatchObject({
      status: 'fail',
      detail: 'the directory could not be reached',
    })
    expect(report.checks.slice(1).every((line) => line.status === 'skip')).toBe(true)
  })

  it('says a credential is wanted when none was given, and that nothing could be checked', async () => {
    const directory = await startBrokenDirectory([])
    try {
      const run = await runInProcess(['directory-check', directory.url, '--json'])
      expect(run.code).toBe(1)
      const report = JSON.parse(run.stdout) as JsonReport
      expect(report.checks[0]?.detail).toBe(
        'ensure answered 401: the directory wants a service credential, and none was given (headers, or --header)',
      )
      expect(report.summary).toBe('the directory could not be checked: see the first line')
    } finally {
      await directory.close()
    }
  })

  it('answers usage mistakes with exit code 2', async () => {
    const mistakes: Array<[string[], RegExp]> = [
      [['directory-check'], /needs the directory/],
      [['directory-check', 'ftp://secret-token'], /the base URL is not an http\(s\) URL/],
      [['directory-check', 'http://svc:secret-token@127.0.0.1:1'], /carries a user or password/],
      [
        ['directory-check', 'http://127.0.0.1:1', '--header', 'authorization: Bearer …'],
        /printable ASCII/,
      ],
      [
        ['directory-check', 'http://127.0.0.1:1', '--header', 'Bearer secret-token'],
        /is not a header/,
      ],
      [
        ['directory-check', 'http://127.0.0.1:1', '--domain', 'not a domain'],
        /is not a domain name/,
      ],
      [
        ['directory-check', 'http://127.0.0.1:1', '--domain', 'acme.com'],
        /--domain must be under a reserved name/,
      ],
    ]
    for (const [args, message] of mistakes) {
      const run = await runInProcess(args)
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stderr).toMatch(message)
      expect(run.stderr).not.toContain('secret-token')
    }
    const help = await runInProcess(['directory-check', '--help'])
    expect(help.stdout).toMatch(/reserved \.test domain \(RFC 6761\)/)
  })
})
