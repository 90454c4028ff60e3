import { base64url, type JSONWebKeySet, type JWK } from 'jose'
import { isCanonicalBase64url } from '../lib/base64url.js'

/**
 * The usable keys of a JWKS document: public signing keys that are safe to verify with. Dropped:
 * a symmetric (`oct`) key or one carrying private parts, so a misconfigured key set can never
 * enable HS*; an RSA key under 2048 bits or whose exponent is not an odd value of at least 65537
 * (with `e = 1` the signature is the padded digest itself, which anyone can compute); an EC key on
 * a curve other than P-256, P-384 or P-521, or whose coordinates are not of its curve's size; an
 * OKP key other than Ed25519; any other key type. A token naming a dropped key meets an unknown
 * key (`token_invalid`); a key set with no key left is no key set (`jwks_unavailable`).
 */
export function parseKeySet(document: unknown): JWK[] {
  const keys = (document as Partial<JSONWebKeySet> | null)?.keys
  if (!Array.isArray(keys)) throw new Error('Key set has no keys array')
  const usable = keys.filter(
    (key): key is JWK =>
      typeof key === 'object' &&
      key !== null &&
      key.d === undefined &&
      (key.use === undefined || key.use === 'sig') &&
      isSafePublicKey(key),
  )
  if (usable.length === 0) throw new Error('Key set has no usable signing keys')
  return usable
}

const RSA_MIN_BITS = 2048
// node:crypto and most WebCrypto implementations refuse larger moduli; verifying with one is slow.
const RSA_MAX_BITS = 16_384
// 65537 (0x010001), the smallest exponent FIPS 186-5 allows; its largest is below 2^256.
const RSA_MIN_EXPONENT = [0x01, 0x00, 0x01]
const RSA_MAX_EXPONENT_BYTES = 32
const EC_COORDINATE_BYTES: ReadonlyMap<unknown, number> = new Map([
  ['P-256', 32],
  ['P-384', 48],
  ['P-521', 66],
])
const ED25519_KEY_BYTES = 32

function isSafePublicKey(key: JWK): boolean {
  switch (key.kty) {
    case 'RSA': {
      const n = unsignedBytes(key.n)
      const e = unsignedBytes(key.e)
      if (n === undefined || e === undefined) return false
      const bits = bitLength(n)
      return (
        bits >= RSA_MIN_BITS &&
        bits <= RSA_MAX_BITS &&
        isOdd(n) &&
        isOdd(e) &&
        e.length <= RSA_MAX_EXPONENT_BYTES &&
        !isLess(e, RSA_MIN_EXPONENT)
      )
    }
    case 'EC': {
      const size = EC_COORDINATE_BYTES.get(key.crv)
      return size !== undefined && octets(key.x)?.length === size && octets(key.y)?.length === size
    }
    case 'OKP':
      return key.crv === 'Ed25519' && octets(key.x)?.length === ED25519_KEY_BYTES
    default:
      return false
  }
}

/** The bytes of a canonical base64url member, else `undefined`. */
function octets(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined
  if (!isCanonicalBase64url(value)) return undefined
  try {
    return base64url.decode(value)
  } catch {
    return undefined
  }
}

/** The big-endian unsigned integer of a base64url member, without leading zero bytes. */
function unsignedBytes(value: unknown): Uint8Array | undefined {
  const bytes = octets(value)
  if (bytes === undefined) return undefined
  const first = bytes.findIndex((byte) => byte !== 0)
  return first === -1 ? undefined : bytes.subarray(first)
}

function bitLength(value: Uint8Array): number {
  return (value.length - 1) * 8 + (32 - Math.clz32(value[0] as number))
}

function isOdd(value: Uint8Array): boolean {
  return ((value[value.length - 1] as number) & 1) === 1
}

/** Whether `a` < `b`, both big-endian without leading zero bytes. */
function isLess(a: Uint8Array, b: readonly number[]): boolean {
  if (a.length !== b.length) return a.length < b.length
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number)
  }
  return false
}
