import { z } from 'zod'
import { DEFAULTS } from '../defaults.js'
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from '../lib/algorithms.js'
import { implementation, milliseconds, urlProblem } from '../lib/schema-rules.js'

/**
 * The signature algorithms a DPoP proof may use: the asymmetric ones a token may use, and
 * `Ed25519` (the fully specified name of EdDSA over Ed25519, which clients may send).
 */
export type DpopAlgorithm = AsymmetricAlgorithm | 'Ed25519'

const DPOP_ALGORITHMS: readonly [DpopAlgorithm, ...DpopAlgorithm[]] = [
  ...ASYMMETRIC_ALGORITHMS,
  'Ed25519',
]

/**
 * Where the `jti` of every accepted DPoP proof is recorded, so that no proof is accepted twice:
 * any object with `setIfAbsent`. `canonical-auth/redis`'s store is one, shared by replicas.
 */
export interface DpopReplayStore {
  /**
   * Records `key` for `ttlMs` milliseconds unless it is recorded already. Resolves to `true` when
   * it recorded the key now, `false` when the key was there (the proof is a replay).
   */
  setIfAbsent(key: string, ttlMs: number): Promise<boolean>
}

/** DPoP (RFC 9449): sender-constrained access tokens. */
export interface DpopConfig {
  /**
   * `allowed` (default): a token presented with the `DPoP` scheme is checked as DPoP, a Bearer
   * token as before, and a DPoP-bound token presented as Bearer is refused. `required`: only DPoP.
   * `disabled`: the `DPoP` scheme is not read, and bound tokens are accepted as Bearer tokens.
   */
  mode?: 'allowed' | 'required' | 'disabled' | undefined
  /**
   * The public origin clients call this service at, such as `https://api.example.com`: a proof's
   * `htu` is compared with it and the request's path. Recommended behind a proxy. Default: the
   * origin the framework reports (which honours `X-Forwarded-*` only where it trusts the proxy).
   */
  origin?: string | undefined
  /** The algorithms a proof may be signed with. Default ES256, ES384, EdDSA, RS256, PS256. */
  algorithms?: readonly DpopAlgorithm[] | undefined
  /**
   * How old a proof may be, by its `iat`, in seconds. Default 300. A proof may also be up to 30
   * seconds ahead of this server's clock.
   */
  iatWindowSeconds?: number | undefined
  /** Where accepted proofs are recorded, so that none is accepted twice. */
  replay?: DpopReplayConfig | undefined
  /** Server-provided nonces (RFC 9449 §9): stateless, from a shared secret. Default off. */
  nonce?: DpopNonceConfig | undefined
}

export interface DpopReplayConfig {
  /**
   * A shared store, such as `createRedisStore(…)` from `canonical-auth/redis`, so that a proof
   * accepted by one replica is refused by every other. Default: in memory, this instance only.
   */
  store?: DpopReplayStore | undefined
  /**
   * When the store fails or is slower than `timeoutMs`: `reject` (default) answers 503
   * `replay_store_unavailable`; `allow` accepts the proof unrecorded, which lets a proof captured
   * in transit be replayed while the store is down: a downgrade, for availability over replay
   * protection.
   */
  onStoreError?: 'reject' | 'allow' | undefined
  /** How long a store call may take, in milliseconds. Default 200. */
  timeoutMs?: number | undefined
  /**
   * How many proofs the in-memory store keeps (each for the proof window). Full of proofs still
   * in their window, it is a failing store (see `onStoreError`). Default 200 000.
   */
  max?: number | undefined
}

export interface DpopNonceConfig {
  /**
   * The secret nonces are made from (HMAC-SHA256 over a time step): at least 32 characters, the
   * same on every replica.
   */
  secret: string
  /** How long a nonce is accepted at most, in seconds, 10 to 600 (at least half of it). Default 300. */
  ttlSeconds?: number | undefined
}

/** An instance's DPoP settings, every default filled in; undefined when `mode` is `disabled`. */
export interface ResolvedDpop {
  readonly required: boolean
  readonly origin: string | undefined
  readonly algorithms: readonly DpopAlgorithm[]
  readonly iatWindowSeconds: number
  readonly iatAheadSeconds: number
  readonly replay: {
    readonly store: DpopReplayStore | undefined
    readonly onStoreError: 'reject' | 'allow'
    readonly timeoutMs: number
    readonly max: number
  }
  readonly nonce: { readonly secret: string; readonly ttlSeconds: number } | undefined
}

const origin = z.string().superRefine((value, ctx) => {
  const problem = urlProblem(value, { anyHost: true })
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
  else if (new URL(value).origin !== value.replace(/\/$/, '')) {
    ctx.addIssue({
      code: 'custom',
      message: "expected an origin such as 'https://api.example.com', with no path or query",
    })
  }
})

export const dpopSchema = z.strictObject({
  mode: z.enum(['allowed', 'required', 'disabled']).optional(),
  origin: origin.optional(),
  algorithms: z
    .array(
      z.enum(DPOP_ALGORITHMS, {
        error: `expected asymmetric algorithms from ${DPOP_ALGORITHMS.join(', ')}`,
      }),
    )
    .min(1, { error: 'expected at least one algorithm' })
    .optional(),
  iatWindowSeconds: z.number().int().min(1).max(3_600).optional(),
  replay: z
    .strictObject({
      store: implementation<DpopReplayStore>(
        ['setIfAbsent'],
        'a store with setIfAbsent(key, ttlMs), such as createRedisStore(…)',
      ).optional(),
      onStoreError: z.enum(['reject', 'allow']).optional(),
      timeoutMs: milliseconds(60_000).optional(),
      max: z.number().int().min(1).max(10_000_000).optional(),
    })
    .optional(),
  nonce: z
    .strictObject({
      secret: z.string().min(32, { error: 'expected a secret of at least 32 characters' }),
      ttlSeconds: z.number().int().min(10).max(600).optional(),
    })
    .optional(),
})

/** The DPoP settings with the defaults filled in; undefined when DPoP is disabled. */
export function resolveDpop(config: DpopConfig | undefined): ResolvedDpop | undefined {
  const mode = config?.mode ?? DEFAULTS.dpop.mode
  if (mode === 'disabled') return undefined
  const defaults = DEFAULTS.dpop
  return {
    required: mode === 'required',
    origin: config?.origin === undefined ? undefined : new URL(config.origin).origin,
    algorithms: Object.freeze([...(config?.algorithms ?? defaults.algorithms)]),
    iatWindowSeconds: config?.iatWindowSeconds ?? defaults.iatWindowSeconds,
    iatAheadSeconds: defaults.iatAheadSeconds,
    replay: {
      store: config?.replay?.store,
      onStoreError: config?.replay?.onStoreError ?? defaults.replay.onStoreError,
      timeoutMs: config?.replay?.timeoutMs ?? defaults.replay.timeoutMs,
      max: config?.replay?.max ?? defaults.replay.max,
    },
    nonce:
      config?.nonce === undefined
        ? undefined
        : {
            secret: config.nonce.secret,
            ttlSeconds: config.nonce.ttlSeconds ?? defaults.nonce.ttlSeconds,
          },
  }
}
