// Profiling aid (not part of `npm run bench`): runs cached `authenticate` calls in a loop so that
// `node --cpu-prof --import tsx bench/profile-hot.ts` shows where the hot path's time goes.
import { createAuth } from 'canonical-auth'
import { createTestDirectory, createTestIssuer } from 'canonical-auth/testing'

const issuer = await createTestIssuer({ audience: 'https://api.bench' })
const directory = await createTestDirectory()
const auth = createAuth({ auth0: issuer.auth0, directory: { baseUrl: directory.baseUrl } })
const token = await issuer.sign({
  email: 'ada@acme.com',
  email_verified: true,
  sub: 'samlp|acme-waad|ada',
})
const headers = { authorization: `Bearer ${token}`, host: 'localhost', accept: '*/*' }
await auth.authenticate({ headers })
const seconds = Number(process.argv[2] ?? 3)
const end = Date.now() + seconds * 1000
let calls = 0
const cpu = process.cpuUsage()
while (Date.now() < end) {
  for (let i = 0; i < 1000; i++) await auth.authenticate({ headers })
  calls += 1000
}
const used = process.cpuUsage(cpu)
console.log(`${calls} calls, ${((used.user + used.system) / calls).toFixed(2)} µs of CPU each`)
await auth.close()
await issuer.close()
await directory.close()
