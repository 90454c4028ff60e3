// Profiling aid (not part of `npm run bench`): runs `authenticate` calls in a loop so that
// `node --cpu-prof --import tsx bench/profile-hot.ts` shows where the time goes.
//
//   npx tsx bench/profile-hot.ts [seconds]            token and user cached: CPU per call
//   npx tsx bench/profile-hot.ts [seconds] uncached   verification cache off, in rounds with
//                                                     node:crypto's RSA check of the same token:
//                                                     CPU per call of each, and the difference
import { createPublicKey, type JsonWebKey, verify } from 'node:crypto'
import { createAuth } from 'canonical-auth'
import { createTestDirectory, createTestIssuer } from 'canonical-auth/testing'

const seconds = Number(process.argv[2] ?? 3)
const uncached = process.argv[3] === 'uncached'
const issuer = await createTestIssuer({ audience: 'https://api.bench' })
const directory = await createTestDirectory()
const auth = createAuth({
  auth0: issuer.auth0,
  directory: { baseUrl: directory.baseUrl },
  ...(uncached ? { cache: { tokens: false } } : {}),
})
const token = await issuer.sign({
  email: 'ada@acme.com',
  email_verified: true,
  sub: 'samlp|acme-waad|ada',
})
const headers = { authorization: `Bearer ${token}`, host: 'localhost', accept: '*/*' }
await auth.authenticate({ headers })

const { keys } = (await (await fetch(issuer.jwksUri)).json()) as { keys: JsonWebKey[] }
const key = createPublicKey({ key: keys[0] as JsonWebKey, format: 'jwk' })
const dot = token.lastIndexOf('.')
const rsaCheck = () =>
  verify(
    'RSA-SHA256',
    Buffer.from(token.slice(0, dot), 'latin1'),
    key,
    Buffer.from(token.slice(dot + 1), 'base64url'),
  )

/** CPU microseconds per call of `batch`'s calls over `ms` of wall time. */
async function cpuPerCall(ms: number, batch: () => Promise<void> | void): Promise<number> {
  const end = Date.now() + ms
  let calls = 0
  const cpu = process.cpuUsage()
  while (Date.now() < end) {
    await batch()
    calls += 100
  }
  const used = process.cpuUsage(cpu)
  return (used.user + used.system) / calls
}
const authenticateBatch = async () => {
  for (let i = 0; i < 100; i++) await auth.authenticate({ headers })
}

if (uncached) {
  // Rounds that alternate the two, so that the machine's drift moves both alike; the least of each.
  const ours: number[] = []
  const floor: number[] = []
  const roundMs = (seconds * 1000) / 10
  for (let round = 0; round < 5; round++) {
    floor.push(
      await cpuPerCall(roundMs, () => {
        for (let i = 0; i < 100; i++) rsaCheck()
      }),
    )
    ours.push(await cpuPerCall(roundMs, authenticateBatch))
  }
  const least = (values: number[]) => Math.min(...values)
  console.log(
    `uncached authenticate ${least(ours).toFixed(2)} µs of CPU, node:crypto's RSA check ` +
      `${least(floor).toFixed(2)} µs: ${(least(ours) - least(floor)).toFixed(2)} µs beyond it ` +
      '(least of 5 rounds each)',
  )
} else {
  const perCall = await cpuPerCall(seconds * 1000, authenticateBatch)
  console.log(`cached authenticate: ${perCall.toFixed(2)} µs of CPU each`)
}
await auth.close()
await issuer.close()
await directory.close()
