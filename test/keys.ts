import { constants, createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { ed448 } from '@noble/curves/ed448.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import type { JWK } from 'jose'
import { b64 } from './helpers.js'

// Keys jose will not make and tokens jose will not sign: RSA keys under 2048 bits or with a small
// exponent, EC keys on other curves. node:crypto generates and signs with most of them; keys on
// curves some runtimes' crypto lacks (secp256k1, Ed448: not in Bun's BoringSSL) come from
// @noble/curves, so that these tests run alike on Node, Deno and Bun.

/** A key pair, its public JWK (with `kid` and `alg` when given) and signers. */
export interface NodeKey {
  readonly jwk: JWK
  /** Signs `header` (merged over `{ alg, kid }`) and `claims` as a compact JWS. */
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): string
  /**
   * The base64url signature over any signing input, as `alg` (default the key's own) computes it:
   * RS*, PS* for an RSA key, ES* for an EC key.
   */
  signature(input: string, alg?: string): string
}

function nodeKey(
  privateKey: KeyObject,
  publicKey: KeyObject,
  kid: string | undefined,
  alg: string,
): NodeKey {
  const signature = (input: string, as = alg) => {
    const digest = `sha${as.slice(2)}`
    const options = as.startsWith('PS')
      ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(as.slice(2)) / 8 }
      : { dsaEncoding: 'ieee-p1363' as const }
    return sign(digest, Buffer.from(input), { key: privateKey, ...options }).toString('base64url')
  }
  return {
    jwk: {
      ...(publicKey.export({ format: 'jwk' }) as JWK),
      ...(kid === undefined ? {} : { kid }),
      alg,
    },
    sign(claims, header = {}) {
      const input = `${b64({ alg, ...(kid === undefined ? {} : { kid }), ...header })}.${b64(claims)}`
      return `${input}.${signature(input, typeof header.alg === 'string' ? header.alg : alg)}`
    },
    signature,
  }
}

/** An RSA key of `bits` and `publicExponent` (default 65537), signing RS256. */
export function rsaKey(kid: string | undefined, bits: number, publicExponent = 65_537): NodeKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent,
  })
  return nodeKey(privateKey, publicKey, kid, 'RS256')
}

/** An EC key on `curve` (an OpenSSL name, e.g. `secp256k1`), signing as `alg` (ES256 by default). */
export function ecKey(kid: string, curve: string, alg = 'ES256'): NodeKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve })
  return nodeKey(privateKey, publicKey, kid, alg)
}

/**
 * An EC key on secp256k1, signing as `alg` (ES256 by default: a label the key does not match).
 * Every signature is ECDSA over SHA-256, whatever `alg` says.
 */
export function secp256k1Key(kid: string, alg = 'ES256'): NodeKey {
  const secret = secp256k1.utils.randomSecretKey()
  const point = secp256k1.getPublicKey(secret, false)
  const signature = (input: string) =>
    Buffer.from(secp256k1.sign(new TextEncoder().encode(input), secret)).toString('base64url')
  return {
    jwk: {
      kty: 'EC',
      crv: 'secp256k1',
      x: Buffer.from(point.subarray(1, 33)).toString('base64url'),
      y: Buffer.from(point.subarray(33)).toString('base64url'),
      kid,
      alg,
    },
    sign(claims, header = {}) {
      const input = `${b64({ alg, kid, ...header })}.${b64(claims)}`
      return `${input}.${signature(input)}`
    },
    signature,
  }
}

/** The public JWK of a new Ed448 key. */
export function ed448Jwk(): JWK {
  const point = ed448.getPublicKey(ed448.utils.randomSecretKey())
  return { kty: 'OKP', crv: 'Ed448', x: Buffer.from(point).toString('base64url') }
}

// The DER DigestInfo prefix of a SHA-256 digest in an RSASSA-PKCS1-v1_5 signature (RFC 8017 9.2).
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex')

/** EMSA-PKCS1-v1_5 (RFC 8017 9.2) of `input` with SHA-256, for a modulus of `size` bytes. */
function pkcs1Sha256Encoding(input: string, size: number): Buffer {
  const digestInfo = Buffer.concat([
    SHA256_DIGEST_INFO,
    createHash('sha256').update(input).digest(),
  ])
  return Buffer.concat([
    Buffer.from([0x00, 0x01]),
    Buffer.alloc(size - digestInfo.length - 3, 0xff),
    Buffer.from([0x00]),
    digestInfo,
  ])
}

/**
 * An RS256 token for an RSA key with exponent 1, signed without any private key: with `e = 1` the
 * verifier's `s^e mod n` is `s` itself, so the padded digest of the signing input (EMSA-PKCS1-v1_5)
 * is a valid signature, for any modulus `n` of the same length.
 */
export function forgeForExponentOne(
  n: string,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): string {
  const input = `${b64(header)}.${b64(claims)}`
  const size = Buffer.from(n, 'base64url').length
  return `${input}.${pkcs1Sha256Encoding(input, size).toString('base64url')}`
}

const integer = (base64url: string) =>
  BigInt(`0x${Buffer.from(base64url, 'base64url').toString('hex') || '0'}`)

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n
  let b = base % modulus
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus
    b = (b * b) % modulus
  }
  return result
}

/**
 * RSASSA-PKCS1-v1_5-VERIFY with SHA-256 (RFC 8017 8.2.2) in plain integer arithmetic: whether the
 * compact JWS `token` is validly signed for the RSA public key (`n`, `e`), whatever the key is.
 * No runtime's crypto is involved, so it says the same on every runtime, also for keys a
 * runtime's own RSA refuses to use (Bun's BoringSSL and Deno refuse `e = 1`; Node's OpenSSL
 * does not).
 */
export function rsaSignatureHolds(key: { n: string; e: string }, token: string): boolean {
  const [header = '', payload = '', signature = ''] = token.split('.')
  const size = Buffer.from(key.n, 'base64url').length
  const n = integer(key.n)
  const s = integer(signature)
  if (Buffer.from(signature, 'base64url').length !== size || s >= n) return false
  const message = modPow(s, integer(key.e), n)
    .toString(16)
    .padStart(size * 2, '0')
  return message === pkcs1Sha256Encoding(`${header}.${payload}`, size).toString('hex')
}
