import { base64url } from 'jose'

// The two members of node:crypto this needs, typed structurally: the core imports no Node module,
// and where node:crypto does not exist (a browser, an edge runtime) everything stays with jose.
interface KeyObjectLike {
  readonly asymmetricKeyType?: string
  readonly asymmetricKeyDetails?: { readonly modulusLength?: number }
}
interface NodeCryptoLike {
  verify(algorithm: string, data: Uint8Array, key: KeyObjectLike, signature: Uint8Array): boolean
  KeyObject: { from(key: unknown): KeyObjectLike }
}

function loadNodeCrypto(): NodeCryptoLike | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process
  try {
    return process?.getBuiltinModule?.('node:crypto') as NodeCryptoLike | undefined
  } catch {
    return undefined
  }
}

const nodeCrypto = loadNodeCrypto()

const DIGESTS: Readonly<Record<string, string>> = {
  RS256: 'RSA-SHA256',
  RS384: 'RSA-SHA384',
  RS512: 'RSA-SHA512',
}

// One KeyObject per CryptoKey that jose imported: jose's key set keeps its CryptoKeys, so this
// conversion happens once per key, and a key dropped from the key set is collected with it.
const keyObjects = new WeakMap<object, KeyObjectLike | null>()

function keyObjectFor(key: unknown): KeyObjectLike | undefined {
  if (nodeCrypto === undefined || typeof key !== 'object' || key === null) return undefined
  let keyObject = keyObjects.get(key)
  if (keyObject === undefined) {
    try {
      const converted = nodeCrypto.KeyObject.from(key)
      // The same rule jose applies: RSA keys under 2048 bits are refused, so leave them to jose.
      const bits = converted.asymmetricKeyDetails?.modulusLength ?? 0
      keyObject = converted.asymmetricKeyType === 'rsa' && bits >= 2048 ? converted : null
    } catch {
      keyObject = null
    }
    keyObjects.set(key, keyObject)
  }
  return keyObject ?? undefined
}

/** Whether the fast path can check this algorithm on this runtime. */
export function canCheckFast(alg: unknown): boolean {
  return nodeCrypto !== undefined && typeof alg === 'string' && alg in DIGESTS
}

const encoder = new TextEncoder()

/**
 * Checks an RS256/384/512 signature with node:crypto, synchronously, against a key jose resolved
 * from the key set. `true` or `false` is the answer; `undefined` means "not for the fast path" and
 * the caller uses jose for the whole verification.
 */
export function checkSignatureFast(token: string, alg: string, key: unknown): boolean | undefined {
  const digest = DIGESTS[alg]
  const keyObject = keyObjectFor(key)
  if (digest === undefined || keyObject === undefined || nodeCrypto === undefined) return undefined
  const lastDot = token.lastIndexOf('.')
  const signature = base64url.decode(token.slice(lastDot + 1))
  return nodeCrypto.verify(digest, encoder.encode(token.slice(0, lastDot)), keyObject, signature)
}

const NONE_HEADERS = new Map<string | undefined, string>()

/**
 * The token with its signature checked and removed: an unsecured JWT over the same payload bytes,
 * carrying the original `typ`, for jose's `UnsecuredJWT.decode` to run the very claim checks
 * `jwtVerify` runs (exp, nbf, iat, iss, aud, maxTokenAge, required claims, typ).
 */
export function asUnsecured(token: string, typ: string | undefined): string {
  let header = NONE_HEADERS.get(typ)
  if (header === undefined) {
    header = base64url.encode(
      JSON.stringify(typ === undefined ? { alg: 'none' } : { alg: 'none', typ }),
    )
    if (NONE_HEADERS.size < 16) NONE_HEADERS.set(typ, header)
  }
  const firstDot = token.indexOf('.')
  const lastDot = token.lastIndexOf('.')
  return `${header}.${token.slice(firstDot + 1, lastDot)}.`
}
