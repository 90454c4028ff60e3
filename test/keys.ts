import { constants, createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import type { JWK } from 'jose'
import { b64 } from './helpers.js'

// Keys jose will not make and tokens jose will not sign: RSA keys under 2048 bits or with a small
// exponent, EC keys on other curves. node:crypto generates and signs with all of them.

/** A key pair from node:crypto, its public JWK (with `kid` and `alg` when given) and signers. */
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

// The DER DigestInfo prefix of a SHA-256 digest in an RSASSA-PKCS1-v1_5 signature (RFC 8017 9.2).
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex')

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
  const digestInfo = Buffer.concat([
    SHA256_DIGEST_INFO,
    createHash('sha256').update(input).digest(),
  ])
  const size = Buffer.from(n, 'base64url').length
  const padded = Buffer.concat([
    Buffer.from([0x00, 0x01]),
    Buffer.alloc(size - digestInfo.length - 3, 0xff),
    Buffer.from([0x00]),
    digestInfo,
  ])
  return `${input}.${padded.toString('base64url')}`
}
