// The command-line tool as a user gets it: the package packed, installed into an empty project,
// and run through `npx canonical-auth` against a test issuer on loopback. Run after `npm run build`.
//
//   node scripts/smoke-cli.mjs
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { createTestDirectory, createTestIssuer } from 'canonical-auth/testing'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')
const project = await mkdtemp(join(tmpdir(), 'canonical-auth-npx-'))
const issuer = await createTestIssuer()
const directory = await createTestDirectory()

/** Runs `npx canonical-auth …` in the project; resolves to its exit code and output. */
async function npx(args) {
  try {
    const { stdout, stderr } = await run('npx', ['--no-install', 'canonical-auth', ...args], {
      cwd: project,
      env: { ...process.env, NO_COLOR: '1' },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    return { code: error.code, stdout: error.stdout, stderr: error.stderr }
  }
}

try {
  const { stdout: packed } = await run(
    'npm',
    ['pack', '--silent', '--ignore-scripts', '--pack-destination', project],
    {
      cwd: root,
    },
  )
  const tarball = join(project, packed.trim().split('\n').at(-1))
  await writeFile(join(project, 'package.json'), '{ "name": "cli-user", "private": true }\n')
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    cwd: project,
  })
  const tenant = ['--issuer', issuer.issuer, '--jwks-uri', issuer.jwksUri]
  const flags = [...tenant, '--audience', issuer.audience]

  const help = await npx(['--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /^Usage: canonical-auth <command>/)

  const accepted = await npx(['explain', await issuer.sign(), ...flags])
  assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr)
  assert.match(accepted.stdout, /\n {2}pass {2}signature {5}verified with RSA/)
  assert.match(accepted.stdout, /\naccepted: subject auth0\|test… of /)

  const expired = await issuer.sign({ exp: Math.floor(Date.now() / 1000) - 600 })
  const refused = await npx(['explain', expired, ...flags, '--json'])
  assert.equal(refused.code, 1)
  const report = JSON.parse(refused.stdout)
  assert.equal(report.summary, 'refused: token_expired (401)')
  assert.equal(report.checks.find((check) => check.name === 'expiry').status, 'fail')

  const opaque = await npx(['explain', 'Zx8fQ2vLm0aB7kPq', ...flags])
  assert.equal(opaque.code, 1)
  assert.match(
    opaque.stdout,
    /opaque token, not a JWT: Auth0 issues one when the authorize request names no audience/,
  )

  const usage = await npx(['explain', 'x', ...tenant])
  assert.equal(usage.code, 2)
  assert.match(usage.stderr, /--audience is needed/)
  const doctor = await npx(['doctor', ...flags])
  assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr)
  assert.match(doctor.stdout, /\nthe deployment is ready \(4 pass, 0 fail, 3 skip\)\n$/)

  const conformance = await npx(['directory-check', directory.baseUrl, '--json'])
  assert.equal(conformance.code, 0, conformance.stdout + conformance.stderr)
  assert.equal(JSON.parse(conformance.stdout).summary, 'the directory honours the wire contract')
  console.log(
    'npx canonical-auth explain, doctor and directory-check (from the packed package): ok',
  )
} finally {
  await issuer.close()
  await directory.close()
  await rm(project, { recursive: true, force: true })
}
