// `canonical-auth explain`: every check the verifier makes on a token, in its order, each a line
// that says why it passed or failed; then the verifier's own verdict on the same token. The
// lines are computed from the verifier's own pieces (shape, decode, header and claim rules, the
// safe-key filter) and the verdict comes from a real `createAuth`, so the report can never pass a
// token canonical-auth refuses.
import {
  compactVerify,
  importJWK,
  type JWK,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose'
import { type Auth, createAuth } from '../core/auth.js'
import type { AuthConfig, ResolvedConfig, ResolvedTenant } from '../core/config/config.js'
import { resolveConfig } from '../core/config/config.js'
import { isAuthError } from '../core/errors.js'
import type { VerifiedToken } from '../core/types.js'
import { assertHeader, KEY_CHOOSING_HEADERS } from '../core/verify/checks.js'
import { claimRulesFor } from '../core/verify/claims.js'
import { decodeUnverified } from '../core/verify/decode.js'
import { assertCompactJws } from '../core/verify/token-shape.js'
import { claimChecks } from './explain-claims.js'
import {
  describeKey,
  fetchFailure,
  KEY_SET_FIX,
  type KeySetProbe,
  probeKeySet,
} from './key-set-probe.js'
import type { Check, Report } from './report.js'
import { count, list, maskEmail, maskSub } from './words.js'

export interface ExplainOptions {
  /** Print subs and emails in full. Default: masked. */
  readonly showIdentities?: boolean | undefined
  /**
   * Resolve the token to the canonical user too, as a login would: the trust policy, then the
   * directory (in `ensure` mode, that creates a user who has none).
   */
  readonly resolve?: boolean | undefined
}

const skip = (name: string, detail: string): Check => ({ name, status: 'skip', detail })

/**
 * Explains what canonical-auth makes of `token` under `config`. Throws `AuthConfigError` for a
 * configuration `createAuth` would refuse.
 */
export async function explainToken(
  token: string,
  config: AuthConfig,
  options: ExplainOptions = {},
): Promise<Report> {
  const resolved = resolveConfig(config)
  const show = options.showIdentities === true
  const checks: Check[] = [...shapeChecks(token, resolved.maxTokenLength)]
  let parts: { header: ProtectedHeaderParameters; payload: JWTPayload } | undefined
  if (checks.every((check) => check.status === 'pass')) {
    try {
      parts = decodeUnverified(token)
      checks.push({ name: 'header', status: 'pass', detail: describeHeader(parts.header) })
    } catch (error) {
      checks.push({ name: 'header', status: 'fail', detail: messageOf(error) })
    }
  } else {
    checks.push(skip('header', 'not a JWT'))
  }
  if (parts !== undefined) checks.push(...(await tokenChecks(token, parts, resolved, show)))
  // One instance gives the verdict and, with --resolve, resolves the token it verified.
  const auth = createAuth({
    ...config,
    onEvent: undefined,
    cache: { ...config.cache, tokens: false },
    // Whether a proof must come with it is reported apart (the binding line); here, the token.
    dpop: { mode: 'disabled' },
  })
  try {
    const verdict = await verify(token, auth)
    checks.push(verdict.check)
    if (options.resolve !== true) {
      return { command: 'explain', checks, summary: verdict.summary(show) }
    }
    if (verdict.verified === undefined) {
      checks.push(skip('trust', 'the token is refused'), skip('directory', 'the token is refused'))
      return { command: 'explain', checks, summary: verdict.summary(show) }
    }
    if (config.directory === undefined) {
      checks.push(
        skip('trust', 'no directory configured: the token is verified only'),
        skip('directory', 'not configured'),
      )
      return { command: 'explain', checks, summary: verdict.summary(show) }
    }
    const resolution = await resolveChecks(verdict.verified, auth, show)
    checks.push(...resolution.checks)
    return { command: 'explain', checks, summary: resolution.summary }
  } finally {
    await auth.close()
  }
}

function shapeChecks(token: string, maxLength: number): Check[] {
  const size: Check =
    token.length > maxLength
      ? {
          name: 'size',
          status: 'fail',
          detail: `${token.length} characters, over the ${maxLength} allowed (maxTokenLength)`,
          fix: 'check what is sent as the token; raise maxTokenLength only for a real token this long',
        }
      : {
          name: 'size',
          status: 'pass',
          detail: `${token.length} characters (at most ${maxLength})`,
        }
  if (size.status === 'fail') return [size, skip('shape', 'too long to read')]
  try {
    assertCompactJws(token, maxLength)
    return [
      size,
      { name: 'shape', status: 'pass', detail: 'a compact JWS: three base64url segments' },
    ]
  } catch (error) {
    return [size, { name: 'shape', status: 'fail', ...shapeFailure(token, messageOf(error)) }]
  }
}

/** What a token that is not a compact JWS is, and what to do about it. */
function shapeFailure(token: string, refusal: string): { detail: string; fix: string } {
  if (/^[^.]+\.[^.]+\.$/.test(token)) {
    return {
      detail: 'no signature: an unsigned token (alg "none"), never accepted',
      fix: 'only signed tokens are accepted: issue RS256 tokens',
    }
  }
  const segments = token.split('.').length
  if (segments === 1) {
    return {
      detail:
        'an opaque token, not a JWT: Auth0 issues one when the authorize request names no audience',
      fix: 'request the token with your API as audience (Auth0: the authorize or token request\u2019s audience parameter)',
    }
  }
  if (segments === 5) {
    return {
      detail:
        'five segments: an encrypted token (JWE), which an API cannot read; Auth0 encrypts ' +
        'access tokens only when the API asks for it',
      fix: 'turn off access token encryption for this API (Auth0: the API\u2019s settings), or decrypt before',
    }
  }
  return {
    detail: refusal,
    fix: 'send the access token exactly as issued, without quotes, spaces or line breaks',
  }
}

function describeHeader(header: ProtectedHeaderParameters): string {
  const fields = [`alg ${String(header.alg)}`]
  if (header.kid !== undefined) fields.push(`kid ${JSON.stringify(header.kid)}`)
  if (header.typ !== undefined) fields.push(`typ ${JSON.stringify(header.typ)}`)
  return `decoded: ${fields.join(', ')}`
}

async function tokenChecks(
  token: string,
  { header, payload }: { header: ProtectedHeaderParameters; payload: JWTPayload },
  config: ResolvedConfig,
  show: boolean,
): Promise<Check[]> {
  const tenant = await tenantFor(payload.iss, config)
  if (!('tenant' in tenant)) {
    return [
      tenant.check,
      ...['algorithm', 'key source', 'key set', 'key', 'signature', 'claims'].map((name) =>
        skip(name, 'no configured issuer to check it against'),
      ),
    ]
  }
  const checks: Check[] = [tenant.check, ...algorithmChecks(header, tenant.tenant)]
  let probe: KeySetProbe | undefined
  try {
    probe = await probeKeySet(tenant.tenant, config.jwks)
    checks.push(keySetCheck(probe))
  } catch (error) {
    checks.push({
      name: 'key set',
      status: 'fail',
      detail: `${tenant.tenant.jwksUri ?? "the issuer's metadata (where the key set URL comes from)"} ${fetchFailure(error)}`,
      fix: KEY_SET_FIX,
    })
  }
  if (probe === undefined || probe.usable.length === 0) {
    checks.push(skip('key', 'no key set'), skip('signature', 'no key set'))
  } else if (checks.some((check) => check.status === 'fail' && HEADER_LINES.has(check.name))) {
    checks.push(skip('key', 'the header is refused'), skip('signature', 'the header is refused'))
  } else {
    checks.push(...(await signatureChecks(token, header, probe, tenant.tenant)))
  }
  const now = Math.floor(Date.now() / 1000)
  checks.push(...claimChecks(header, payload, claimRulesFor(tenant.tenant), now, show))
  const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt
  if (typeof jkt === 'string') {
    checks.push({
      name: 'binding',
      status: config.dpop === undefined ? 'fail' : 'pass',
      detail:
        config.dpop === undefined
          ? 'bound to a DPoP key (cnf.jkt), and DPoP is disabled here: such a token is refused'
          : 'bound to a DPoP key (cnf.jkt): each request must carry a DPoP proof signed by it',
    })
  } else if (config.dpop?.required === true) {
    checks.push({
      name: 'binding',
      status: 'fail',
      detail: 'not bound to a DPoP key, and dpop.mode is required: a Bearer token is refused',
      fix: 'have the client request DPoP-bound tokens (a DPoP proof at the token endpoint)',
    })
  }
  return checks
}

type TenantMatch = { tenant: ResolvedTenant; check: Check } | { check: Check }

async function tenantFor(iss: unknown, config: ResolvedConfig): Promise<TenantMatch> {
  const name = 'issuer'
  const configured = config.tenants.map((tenant) => tenant.issuer)
  if (typeof iss !== 'string') {
    return { check: { name, status: 'fail', detail: 'the token has no iss claim' } }
  }
  let tenant = config.tenants.find((candidate) => candidate.issuer === iss)
  if (tenant === undefined && config.tenantResolver !== undefined) {
    try {
      tenant = await config.tenantResolver(iss)
    } catch (error) {
      return {
        check: {
          name,
          status: 'fail',
          detail: `${JSON.stringify(iss)}: the tenant resolver failed (${error instanceof Error ? error.name : typeof error})`,
        },
      }
    }
  }
  if (tenant !== undefined) {
    return { tenant, check: { name, status: 'pass', detail: `${iss}, a configured issuer` } }
  }
  const close = configured.find((issuer) => issuer.replace(/\/$/, '') === iss.replace(/\/$/, ''))
  return {
    check: {
      name,
      status: 'fail',
      detail:
        config.tenantResolver === undefined
          ? `${JSON.stringify(iss)} is not a configured issuer (configured: ${list(configured)})`
          : `${JSON.stringify(iss)}: the tenant resolver has no tenant for it`,
      fix:
        close === undefined
          ? 'configure this issuer in auth0, or get the token from a configured tenant'
          : `the issuer differs only by its trailing slash from ${close}: configure auth0.issuer exactly as the token's iss`,
    },
  }
}

const HEADER_LINES = new Set(['algorithm', 'key source'])

function algorithmChecks(header: ProtectedHeaderParameters, tenant: ResolvedTenant): Check[] {
  const accepted = list(tenant.algorithms as string[])
  const alg = String(header.alg)
  const chosen = KEY_CHOOSING_HEADERS.filter((name) => name in header)
  const keySource: Check =
    chosen.length === 0
      ? {
          name: 'key source',
          status: 'pass',
          detail: 'the configured key set: the token names no key of its own',
        }
      : {
          name: 'key source',
          status: 'fail',
          detail: `the header carries ${list(chosen)}: a token may not choose the key it is checked with`,
          fix: 'the token was not issued by the tenant as it is: canonical-auth uses the configured key set only',
        }
  // The algorithm judged alone: the key-choosing parameters have a line of their own.
  const algorithmOnly = Object.fromEntries(
    Object.entries(header).filter(([name]) => !(chosen as string[]).includes(name)),
  ) as ProtectedHeaderParameters
  let algorithm: Check
  try {
    assertHeader(algorithmOnly, tenant)
    algorithm = { name: 'algorithm', status: 'pass', detail: `${alg} (accepted: ${accepted})` }
  } catch {
    algorithm =
      alg === 'none'
        ? { name: 'algorithm', status: 'fail', detail: 'none: an unsigned token, never accepted' }
        : alg.startsWith('HS')
          ? {
              name: 'algorithm',
              status: 'fail',
              detail: `${alg} is signed with a shared secret, never accepted`,
              fix: 'use RS256 (Auth0: the API\u2019s signing algorithm)',
            }
          : {
              name: 'algorithm',
              status: 'fail',
              detail: `${JSON.stringify(header.alg)} is not accepted (accepted: ${accepted})`,
              fix: 'add it to auth0.algorithms if the tenant really signs with it',
            }
  }
  return [algorithm, keySource]
}

function keySetCheck(probe: KeySetProbe): Check {
  const dropped = probe.all.length - probe.usable.length
  if (probe.usable.length === 0) {
    return {
      name: 'key set',
      status: 'fail',
      detail: `${probe.url}: ${count(probe.all.length, 'key')}, none safe to verify with`,
      fix: 'the key set must hold public RSA (2048 bits or more), EC P-256/384/521 or Ed25519 signing keys',
    }
  }
  const refused = dropped === 0 ? '' : `; ${dropped} refused as unsafe`
  return {
    name: 'key set',
    status: 'pass',
    detail: `${probe.url}: ${count(probe.usable.length, 'usable key')} (${list(probe.usable.map(describeKey))})${refused}`,
  }
}

async function signatureChecks(
  token: string,
  header: ProtectedHeaderParameters,
  probe: KeySetProbe,
  tenant: ResolvedTenant,
): Promise<Check[]> {
  const kid = header.kid
  const matches = (key: JWK) =>
    (kid === undefined || key.kid === kid) && (key.alg === undefined || key.alg === header.alg)
  const candidates = probe.usable.filter(matches)
  if (candidates.length === 0) {
    const unsafe = probe.all.some((key) => key.kid === kid)
    const detail = unsafe
      ? `kid ${JSON.stringify(kid)} names a key canonical-auth refuses to use (too weak or of an unsupported kind)`
      : kid === undefined
        ? `no kid, and no key of the key set is for ${header.alg}`
        : `kid ${JSON.stringify(kid)} is not in the key set (kids: ${list(probe.usable.map((key) => JSON.stringify(key.kid)))})`
    return [
      {
        name: 'key',
        status: 'fail',
        detail,
        fix: 'the token comes from another tenant, or its key was rotated out; get a new token from this tenant',
      },
      skip('signature', 'no key to check it with'),
    ]
  }
  const key: Check = {
    name: 'key',
    status: 'pass',
    detail:
      candidates.length === 1
        ? describeKey(candidates[0] as JWK)
        : `${candidates.length} keys match; each is tried`,
  }
  let refusal = 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
  for (const candidate of candidates.slice(0, 8)) {
    try {
      await compactVerify(token, await importJWK(candidate, String(header.alg)), {
        algorithms: tenant.algorithms as string[],
      })
      return [
        key,
        { name: 'signature', status: 'pass', detail: `verified with ${describeKey(candidate)}` },
      ]
    } catch (error) {
      // The next candidate; the last one's reason is the one told.
      const code = (error as { code?: unknown }).code
      refusal = typeof code === 'string' ? code : 'ERR_KEY_UNUSABLE'
    }
  }
  return [
    key,
    {
      name: 'signature',
      status: 'fail',
      detail: SIGNATURE_REFUSALS[refusal] ?? (SIGNATURE_REFUSALS.ERR_KEY_UNUSABLE as string),
    },
  ]
}

const SIGNATURE_REFUSALS: Record<string, string> = {
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED:
    'does not verify: the token was altered, or signed by another key under the same kid',
  ERR_JOSE_NOT_SUPPORTED:
    'the header\u2019s crit names an extension canonical-auth does not support',
  ERR_JWS_INVALID:
    'the header is not a valid JWS header (its crit, or a parameter of the wrong type)',
  ERR_KEY_UNUSABLE: 'the key cannot check this algorithm: the key type does not fit alg',
}

interface Verdict {
  readonly check: Check
  /** The token as the instance verified it; undefined when it is refused. */
  readonly verified?: VerifiedToken
  summary(show: boolean): string
}

async function verify(token: string, auth: Auth): Promise<Verdict> {
  try {
    const verified = await auth.verifyAuth0Token(token)
    return {
      verified,
      check: { name: 'verification', status: 'pass', detail: 'canonical-auth accepts this token' },
      summary: (show) =>
        `accepted: subject ${maskSub(verified.subject, show)} of ${verified.issuer}`,
    }
  } catch (error) {
    const refusal = isAuthError(error) ? `${error.code} (${error.status})` : 'internal_error'
    return {
      check: {
        name: 'verification',
        status: 'fail',
        detail: `canonical-auth refuses it: ${refusal}${isAuthError(error) ? `: ${error.message}` : ''}`,
      },
      summary: () => `refused: ${refusal}`,
    }
  }
}

// What a refusal of resolution says about which step refused: the trust policy, or the directory.
const TRUST_REFUSALS = new Set(['identity_untrusted', 'token_invalid'])

async function resolveChecks(
  verified: VerifiedToken,
  auth: Auth,
  show: boolean,
): Promise<{ checks: Check[]; summary: string }> {
  try {
    const user = await auth.resolveCanonicalUser(verified)
    const how =
      user.source === 'claim'
        ? "the token's canonical-id claim"
        : user.email === undefined
          ? 'the trust policy'
          : `the trust policy, by email ${maskEmail(user.email, show)}`
    return {
      checks: [
        { name: 'trust', status: 'pass', detail: `linked through ${how}` },
        {
          name: 'directory',
          status: 'pass',
          detail:
            user.source === 'claim'
              ? 'not asked: the token names the user'
              : `user ${user.id}${user.created ? ', created on this call' : ''}`,
        },
      ],
      summary: `resolved: user ${user.id}`,
    }
  } catch (error) {
    const code = isAuthError(error) ? error.code : 'internal_error'
    const refusal: Check = {
      name: TRUST_REFUSALS.has(code) ? 'trust' : 'directory',
      status: 'fail',
      detail: `${code}${isAuthError(error) ? ` (${error.status})` : ''}: ${messageOf(error)}`,
      fix: RESOLVE_FIXES[code],
    }
    const checks: Check[] =
      refusal.name === 'trust'
        ? [refusal, skip('directory', 'the trust policy refused the identity')]
        : [{ name: 'trust', status: 'pass', detail: 'the identity may be linked' }, refusal]
    return { checks, summary: `refused: ${code}` }
  }
}

const RESOLVE_FIXES: Record<string, string> = {
  identity_untrusted:
    'trust the connection for its domains (trust.trustedConnections), or have the IdP send a verified email',
  user_not_provisioned:
    'the directory is in lookup mode and has no such user: provision them first',
  directory_unavailable: 'run canonical-auth doctor to check the directory',
}

/** The message of canonical-auth's own errors; another error's may quote what it failed on. */
function messageOf(error: unknown): string {
  return isAuthError(error) ? error.message : 'failed'
}
