// Started by allocation.ts with --expose-gc and a young generation large enough that no
// collection runs while it counts: the heap's growth over many cached `authenticate` calls is
// then what they allocated. Prints one JSON line.
import { PerformanceObserver } from 'node:perf_hooks'
import { createAuth } from 'canonical-auth'
import { createTestDirectory, createTestIssuer } from 'canonical-auth/testing'

const CALLS = Number(process.env.CALLS ?? 20_000)
const issuer = await createTestIssuer({ audience: 'https://api.bench' })
const directory = await createTestDirectory()
const auth = createAuth({ auth0: issuer.auth0, directory: { baseUrl: directory.baseUrl } })
const token = await issuer.sign({
  sub: 'samlp|acme-waad|ada',
  email: 'ada@acme.com',
  email_verified: true,
})
// What a framework hands over: one headers object per request, built before the guard runs, its
// values flat strings of their own as Node's HTTP parser makes them (read from bytes).
const header = (value: string) => Buffer.from(value, 'latin1').toString('latin1')
const requests = Array.from({ length: CALLS }, () => ({
  headers: {
    authorization: header(`Bearer ${token}`),
    host: header('api.example.com'),
    accept: header('*/*'),
  },
}))
for (let i = 0; i < 5_000; i++)
  await auth.authenticate(requests[i % 100] as (typeof requests)[number])

let collections = 0
const observer = new PerformanceObserver((list) => {
  collections += list.getEntries().length
})
observer.observe({ entryTypes: ['gc'] })
;(globalThis as { gc?: () => void }).gc?.()
await new Promise((resolve) => setTimeout(resolve, 20))
collections = 0
const before = process.memoryUsage().heapUsed
for (const request of requests) await auth.authenticate(request)
const after = process.memoryUsage().heapUsed
await new Promise((resolve) => setTimeout(resolve, 20))
observer.disconnect()
await auth.close()
await issuer.close()
await directory.close()
console.log(JSON.stringify({ calls: CALLS, bytesPerCall: (after - before) / CALLS, collections }))
