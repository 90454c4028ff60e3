/**
 * Every default of the configuration, in one table: each concern's resolution reads its own part,
 * and the README's option reference quotes these numbers.
 */
export const DEFAULTS = {
  tenant: {
    algorithms: ['RS256'],
    clockToleranceSeconds: 5,
    maxTokenAgeSeconds: 86_400,
    requireAccessTokenType: false,
  },
  claims: { email: 'email', emailVerified: 'email_verified' },
  maxTokenLength: 8_192,
  signatureCheck: 'auto',
  jwks: { timeoutMs: 5_000, maxAgeMs: 600_000, cooldownMs: 30_000, staleIfErrorMs: 3_600_000 },
  directory: {
    mode: 'ensure',
    timeoutMs: 3_000,
    deadlineMs: 5_000,
    retries: 2,
    paths: { ensure: '/api/v1/users/ensure', lookup: '/admin/user/{email}' },
    circuitBreaker: { failureThreshold: 5, resetTimeoutMs: 10_000 },
  },
  cache: {
    maxAgeMs: 300_000,
    max: 10_000,
    negativeMaxAgeMs: 10_000,
    storeTimeoutMs: 200,
    tokens: { max: 10_000, maxAgeMs: 60_000 },
    tenants: { max: 1_000, maxAgeMs: 300_000, negativeMaxAgeMs: 60_000, timeoutMs: 5_000 },
  },
  userinfo: { timeoutMs: 3_000 },
  tokenSources: { bearer: true, headers: ['x-user-token'] },
  protectedResource: { maxAgeSeconds: 3_600 },
  dpop: {
    mode: 'allowed',
    algorithms: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'],
    iatWindowSeconds: 300,
    iatAheadSeconds: 30,
    replay: { onStoreError: 'reject', timeoutMs: 200, max: 200_000 },
    nonce: { ttlSeconds: 300 },
  },
  discovery: {
    order: ['static', 'resolver', 'management', 'webfinger'],
    responseType: 'code',
    scope: 'openid profile email',
    maxAgeMs: 600_000,
    staleIfErrorMs: 3_600_000,
    timeoutMs: 3_000,
  },
} as const
