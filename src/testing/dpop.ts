import { randomUUID } from 'node:crypto'
import {
  base64url,
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from 'jose'

/** A client's DPoP key pair, as a client library would hold it. */
export interface DpopKeyPair {
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  /** The public key as a JWK: what proofs embed and `issuer.sign(…, { dpop })` binds to. */
  readonly publicJwk: JWK
  /** The signature algorithm of the pair. */
  readonly alg: string
}

/**
 * Generates a DPoP key pair for tests: ES256 unless `alg` says otherwise (any algorithm
 * `dpop.algorithms` accepts, such as `EdDSA`, `RS256` or `PS256`).
 *
 * @example
 * ```ts
 * const client = await createDpopKeyPair()
 * const token = await issuer.sign({ sub: 'auth0|ada' }, { dpop: client.publicJwk })
 * ```
 */
export async function createDpopKeyPair(alg = 'ES256'): Promise<DpopKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { privateKey, publicKey, publicJwk: await exportJWK(publicKey), alg }
}

/** Options for {@link createDpopProof}. */
export interface DpopProofOptions {
  /** The client's private key, which signs the proof. */
  readonly privateKey: CryptoKey
  /** The matching public key, embedded in the proof's header. */
  readonly publicJwk: JWK
  /** The request method, such as `GET`. */
  readonly method: string
  /** The request URL; its query and fragment are left out of `htu`. */
  readonly url: string
  /** The access token the proof goes with: its hash becomes `ath`. */
  readonly accessToken?: string | undefined
  /** The nonce the server provided in `DPoP-Nonce`. */
  readonly nonce?: string | undefined
  /** The signature algorithm. Default: ES256, or the key pair's own (`createDpopKeyPair`). */
  readonly alg?: string | undefined
  /** Claims to add or override (`iat`, `jti`, `htu`…); a claim given as `undefined` is left out. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined
  /** Header parameters to add or override (`typ`, `jwk`…). */
  readonly header?: Readonly<Record<string, unknown>> | undefined
}

/**
 * Makes a DPoP proof (RFC 9449 §4.2) for one request, as a client would: `typ: dpop+jwt`, the
 * public key in the header, a fresh `jti`, `htm`, `htu`, `iat` now, and `ath` for the token.
 *
 * @example
 * ```ts
 * const proof = await createDpopProof({ ...client, method: 'GET', url, accessToken: token })
 * await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } })
 * ```
 */
export async function createDpopProof(options: DpopProofOptions): Promise<string> {
  const url = new URL(options.url)
  const htu = `${url.origin}${url.pathname}`
  const payload: Record<string, unknown> = {
    jti: randomUUID(),
    htm: options.method,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ...(options.accessToken === undefined ? {} : { ath: await tokenHash(options.accessToken) }),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    ...options.claims,
  }
  for (const name of Object.keys(payload)) if (payload[name] === undefined) delete payload[name]
  const alg = options.alg ?? 'ES256'
  return new SignJWT(payload)
    .setProtectedHeader({
      typ: 'dpop+jwt',
      alg,
      jwk: publicOnly(options.publicJwk),
      ...options.header,
    })
    .sign(options.privateKey)
}

/** The RFC 7638 thumbprint a token bound to `key` carries as `cnf.jkt`. */
export async function dpopThumbprint(key: JWK | CryptoKey): Promise<string> {
  const jwk = isCryptoKey(key) ? await exportJWK(key) : key
  return calculateJwkThumbprint(jwk, 'sha256')
}

async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))
  return base64url.encode(new Uint8Array(digest))
}

/** The JWK without private members, whatever was passed. */
function publicOnly(jwk: JWK): JWK {
  const { d, p, q, dp, dq, qi, oth, k, ...rest } = jwk as JWK & Record<string, unknown>
  return rest
}

function isCryptoKey(key: unknown): key is CryptoKey {
  return typeof key === 'object' && key !== null && 'type' in key && 'algorithm' in key
}
