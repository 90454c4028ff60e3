// `canonical-auth doctor`: is this deployment configured right? Each part the configuration names
// is tried the way the library uses it: the tenants' metadata and key sets, the clock against the
// issuer's, the user directory with the service credential, the shared cache store, and the
// discovery sources. Parts that are not configured are skipped.
import { randomUUID } from 'node:crypto'
import { createAuth } from '../core/auth.js'
import type { AuthConfig, ResolvedConfig, ResolvedTenant } from '../core/config/config.js'
import { resolveConfig } from '../core/config/config.js'
import { isAuthError } from '../core/errors.js'
import { MAX_METADATA_BYTES, metadataUrls } from '../core/jwks/issuer-metadata.js'
import { createHttpDirectory, type HttpDirectoryOptions } from '../core/resolve/directory.js'
import { callUpstream, statusError, UpstreamError } from '../core/upstream/client.js'
import { describeKey, fetchFailure, KEY_SET_FIX, probeKeySet } from './key-set-probe.js'
import type { Check, Report } from './report.js'
import { count, duration, list } from './words.js'

// Addresses under a reserved domain (RFC 6761): asking about one changes nothing anywhere.
const DOCTOR_DOMAIN = 'canonical-auth-doctor.test'

/** Checks every part of a deployment `config` names. Throws `AuthConfigError` for a bad config. */
export async function checkDeployment(config: AuthConfig): Promise<Report> {
  const resolved = resolveConfig(config)
  const checks: Check[] = [{ name: 'configuration', status: 'pass', detail: 'valid' }]
  if (resolved.tenants.length === 0) {
    checks.push({
      name: 'tenants',
      status: 'skip',
      detail: 'auth0 is a function: tenants are chosen at run time, so none can be checked here',
    })
  }
  for (const tenant of resolved.tenants) checks.push(...(await tenantChecks(tenant, resolved)))
  checks.push(await directoryCheck(resolved))
  checks.push(await storeCheck(resolved))
  checks.push(await discoveryCheck(config, resolved))
  const failed = checks.filter((check) => check.status === 'fail').length
  return {
    command: 'doctor',
    checks,
    summary:
      failed === 0
        ? 'the deployment is ready'
        : `${failed === 1 ? 'one check' : `${failed} checks`} failed`,
  }
}

async function tenantChecks(tenant: ResolvedTenant, config: ResolvedConfig): Promise<Check[]> {
  const label = (what: string) =>
    config.tenants.length === 1 ? what : `${what} (${tenant.issuer})`
  const checks: Check[] = []
  const metadataUrl = metadataUrls(tenant.issuer)[0]
  let issuerDate: number | undefined
  try {
    // Read as the library reads it: one deadline, no redirect followed, the same byte cap.
    const document = (await callUpstream(
      { upstream: 'metadata', timeoutMs: config.jwks.timeoutMs, maxBytes: MAX_METADATA_BYTES },
      (init) => fetch(metadataUrl, { ...init, headers: { accept: 'application/json' } }),
      (response) => {
        issuerDate = dateOf(response.headers)
        if (!response.ok) throw statusError('metadata', response.status)
        return response.json()
      },
    )) as { issuer?: unknown } | null
    if (document?.issuer !== tenant.issuer) {
      throw new Error(`names the issuer ${JSON.stringify(document?.issuer)}, not ${tenant.issuer}`)
    }
    checks.push({
      name: label('metadata'),
      status: 'pass',
      detail: `${metadataUrl} names this issuer`,
    })
  } catch (error) {
    const reason = fetchFailure(error, MAX_METADATA_BYTES)
    checks.push(
      tenant.jwksUri === undefined
        ? {
            name: label('metadata'),
            status: 'fail',
            detail: `${metadataUrl} ${reason}`,
            fix: 'the key set URL comes from this document: check the issuer, or configure jwksUri',
          }
        : {
            name: label('metadata'),
            status: 'skip',
            detail: `${metadataUrl} ${reason}; not needed, the key set URL is known without it`,
          },
    )
  }
  try {
    const probe = await probeKeySet(tenant, config.jwks)
    const accepted = probe.usable.filter(
      (key) => key.alg === undefined || (tenant.algorithms as string[]).includes(key.alg),
    )
    checks.push(
      accepted.length === 0
        ? {
            name: label('key set'),
            status: 'fail',
            detail: `${probe.url}: no usable key for ${list(tenant.algorithms as string[])} (${count(probe.all.length, 'key')} listed)`,
            fix: 'check auth0.algorithms against the algorithm the tenant signs with',
          }
        : {
            name: label('key set'),
            status: 'pass',
            detail: `${probe.url}: ${count(accepted.length, 'usable key')} (${list(accepted.map(describeKey))})`,
          },
    )
  } catch (error) {
    checks.push({
      name: label('key set'),
      status: 'fail',
      detail: `${tenant.jwksUri ?? 'the key set'} ${fetchFailure(error)}`,
      fix: KEY_SET_FIX,
    })
  }
  checks.push(clockCheck(label('clock'), issuerDate, tenant.clockToleranceSeconds))
  return checks
}

function dateOf(headers: Headers): number | undefined {
  const header = headers.get('date')
  const date = header === null ? Number.NaN : Date.parse(header)
  return Number.isNaN(date) ? undefined : date
}

function clockCheck(name: string, issuerDate: number | undefined, toleranceSeconds: number): Check {
  if (issuerDate === undefined) {
    return { name, status: 'skip', detail: 'the issuer sent no Date header to compare with' }
  }
  // The Date header has whole seconds: a difference under a second is no difference.
  const skew = Math.trunc((Date.now() - issuerDate) / 1000)
  const way = skew > 0 ? 'ahead of' : 'behind'
  if (Math.abs(skew) <= Math.max(1, toleranceSeconds)) {
    return {
      name,
      status: 'pass',
      detail:
        skew === 0
          ? "the same as the issuer's, to the second"
          : `${duration(skew)} ${way} the issuer's, within the tolerance`,
    }
  }
  return {
    name,
    status: 'fail',
    detail: `${duration(skew)} ${way} the issuer's, beyond the ${duration(toleranceSeconds)} tolerance: fresh tokens will be refused`,
    fix: 'synchronise this machine with NTP (timedatectl, chrony)',
  }
}

async function directoryCheck(config: ResolvedConfig): Promise<Check> {
  const name = 'directory'
  const directory = config.directory
  if (directory === undefined) return { name, status: 'skip', detail: 'not configured' }
  const client = directory.client ?? createHttpDirectory(directory.http as HttpDirectoryOptions)
  const where = directory.http === undefined ? 'the directory client' : directory.http.baseUrl
  try {
    const found = await client.lookup(`doctor-${randomUUID()}@${DOCTOR_DOMAIN}`, {
      signal: AbortSignal.timeout(directory.deadlineMs),
    })
    return {
      name,
      status: found === null ? 'pass' : 'fail',
      detail:
        found === null
          ? `${where} answers${directory.http !== undefined && directory.http.headers === undefined ? ' (no service credential configured)' : ''} (a lookup of a reserved address: not found)`
          : `${where} found a user for an address nobody has: lookup must answer 404 for unknown emails`,
    }
  } catch (error) {
    const status = upstreamStatus(error)
    const refused = status === 401 || status === 403
    return {
      name,
      status: 'fail',
      detail: `${where} ${refused ? `refused the service credential (${status})` : describeFailure(error)}`,
      fix: refused
        ? 'check directory.headers (the service credential)'
        : 'check directory.baseUrl, and that this machine reaches it',
    }
  }
}

async function storeCheck(config: ResolvedConfig): Promise<Check> {
  const name = 'cache store'
  const store = config.cache.store
  if (store === undefined)
    return { name, status: 'skip', detail: 'not configured (each replica caches in memory)' }
  const key = `canonical-auth:doctor:${randomUUID()}`
  const id = randomUUID()
  // The library counts an answer slower than cache.storeTimeoutMs as a miss; so does this check.
  const bound = config.cache.storeTimeoutMs
  const timely = <T>(operation: Promise<T>) => withTimeout(operation, bound)
  try {
    await settled(() => timely(store.set(key, { id }, 10_000)))
    const read = await timely(store.get(key))
    await timely(store.delete(key))
    const gone = await timely(store.get(key))
    if (read?.id !== id) {
      return {
        name,
        status: 'fail',
        detail: 'an entry written was not read back the same',
        fix: 'check the store (and its signing secret)',
      }
    }
    if (gone !== undefined)
      return { name, status: 'fail', detail: 'an entry deleted was still read back' }
    return { name, status: 'pass', detail: 'an entry written, read back the same and deleted' }
  } catch (error) {
    return {
      name,
      status: 'fail',
      detail:
        error instanceof SlowStore
          ? `the store gave no answer within cache.storeTimeoutMs (${bound} ms), so every read is a miss`
          : `the store failed: ${describeFailure(error)}`,
      fix: 'check the store\u2019s connection (its URL, credentials, network)',
    }
  }
}

// A client the configuration has just created may still be connecting, and a store may refuse
// commands until it is ready (the Redis store does): the first write is tried again, a tenth of a
// second apart, for this long before the store is reported failed. A store slower than
// storeTimeoutMs is reported at once.
const STORE_SETTLE_MS = 2_000

async function settled<T>(operation: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + STORE_SETTLE_MS
  for (;;) {
    try {
      return await operation()
    } catch (error) {
      if (error instanceof SlowStore || Date.now() >= deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

async function discoveryCheck(config: AuthConfig, resolved: ResolvedConfig): Promise<Check> {
  const name = 'discovery'
  const { management, webfinger, resolver } = resolved.discovery
  const sources = [
    ...(resolver === undefined ? [] : ['your resolver']),
    ...(management === undefined ? [] : ['the Management API']),
    ...(webfinger === undefined ? [] : ['WebFinger']),
  ]
  if (sources.length === 0)
    return { name, status: 'skip', detail: 'no discovery source configured' }
  const auth = createAuth({ ...config, onEvent: undefined })
  try {
    await auth.discoverAuthProvider(`doctor@${DOCTOR_DOMAIN}`)
    return { name, status: 'pass', detail: `${list(sources)} answered for a reserved domain` }
  } catch (error) {
    return {
      name,
      status: 'fail',
      detail: `${list(sources)}: ${isAuthError(error) ? `${error.code}: ${error.message}` : describeFailure(error)}`,
      fix: 'check the discovery credentials and that this machine reaches the sources',
    }
  } finally {
    await auth.close()
  }
}

class SlowStore extends Error {
  override readonly name = 'TimeoutError'
}

/** `operation`, or a `TimeoutError` once `ms` have passed; the timer is released either way. */
function withTimeout<T>(operation: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SlowStore()), ms)
  })
  return Promise.race([operation, late]).finally(() => clearTimeout(timer))
}

/** The HTTP status an upstream answered with, from the error or the refusal it caused. */
function upstreamStatus(error: unknown): number | undefined {
  const candidate = isAuthError(error) ? error.cause : error
  return candidate instanceof UpstreamError ? candidate.status : undefined
}

function describeFailure(error: unknown): string {
  if (isAuthError(error)) return `${error.code}`
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'TimeoutError' || name === 'AbortError') return 'gave no answer in time'
  // "directory: could not be reached": the upstream is named by the line already.
  if (name === 'UpstreamError') return (error as Error).message.replace(/^[^:]*: /, '')
  return 'failed'
}
