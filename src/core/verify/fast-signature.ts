import { base64url } from 'jose'

// The members of node:crypto and node:buffer this needs, typed structurally: the core imports no
// Node module, and where they do not exist (a browser, an edge runtime) everything stays with jose.
interface KeyObjectLike {
  readonly asymmetricKeyType?: string
  readonly asymmetricKeyDetails?: { readonly modulusLength?: number }
}
interface NodeCryptoLike {
  verify(algorithm: string, data: Uint8Array, key: KeyObjectLike, signature: Uint8Array): boolean
  KeyObject: { from(key: unknown): KeyObjectLike }
}
interface ScratchBuffer extends Uint8Array {
  write(value: string, offset: number, length: number, encoding: 'latin1' | 'base64url'): number
  toString(encoding?: 'utf8', start?: number, end?: number): string
}
interface NodeBufferLike {
  Buffer: {
    from(value: string, encoding: 'base64url' | 'latin1'): Uint8Array
    alloc(size: number): ScratchBuffer
  }
  isUtf8?: (bytes: Uint8Array) => boolean
}

function builtin<T>(id: string): T | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process
  try {
    return process?.getBuiltinModule?.(id) as T | undefined
  } catch {
    return undefined
  }
}

const nodeCrypto = builtin<NodeCryptoLike>('node:crypto')
const nodeBuffer = builtin<NodeBufferLike>('node:buffer')
const NodeBuffer = nodeBuffer?.Buffer
const isUtf8 = NodeBuffer === undefined ? undefined : nodeBuffer?.isUtf8

const DIGESTS: Readonly<Record<string, string>> = {
  RS256: 'RSA-SHA256',
  RS384: 'RSA-SHA384',
  RS512: 'RSA-SHA512',
}

// A byte order mark is kept by both (JSON.parse then refuses it) where jose would skip it. The
// strict one throws on bytes that are not UTF-8, as jose's own decoder of headers and claims does.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const encoder = new TextEncoder()

function segmentBytes(segment: string): Uint8Array {
  return NodeBuffer === undefined
    ? base64url.decode(segment)
    : NodeBuffer.from(segment, 'base64url')
}

/**
 * Decodes one base64url segment of a token to text, replacing bytes that are not UTF-8: for reading
 * a token's claims before it is verified (its issuer), never for a decision jose would make on its
 * own reading. Only for segments `assertCompactJws` has already accepted (base64url alphabet,
 * canonical): node:buffer's base64url decoder is lenient about anything else, jose's (the fallback
 * off Node) is not.
 */
export function decodeSegment(segment: string): string {
  return decoder.decode(segmentBytes(segment))
}

/**
 * {@link decodeSegment}, but bytes that are not UTF-8 throw a TypeError: for the header, which
 * selects the key on the fast path and must read exactly as jose reads it.
 */
export function decodeStrictSegment(segment: string): string {
  if (isUtf8 === undefined) return strictDecoder.decode(segmentBytes(segment))
  // On Node the bytes go into a kept buffer and are checked there, rather than into a new buffer
  // for a decoder: the same answer (valid UTF-8 read as is, a byte order mark kept, anything else
  // a TypeError), without the allocation.
  const bytes = scratch(2, Math.ceil((segment.length * 3) / 4))
  const length = bytes.write(segment, 0, bytes.length, 'base64url')
  if (!isUtf8(bytes.subarray(0, length))) throw new TypeError('The segment is not UTF-8')
  return bytes.toString('utf8', 0, length)
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
  const encoded = token.slice(lastDot + 1)
  if (NodeBuffer === undefined) {
    const data = encoder.encode(token.slice(0, lastDot))
    return nodeCrypto.verify(digest, data, keyObject, base64url.decode(encoded))
  }
  // The signing input and the signature are written into buffers kept for the purpose rather than
  // new ones each time: the check is synchronous, so nothing else can use them meanwhile. The
  // token is ASCII (assertCompactJws), so its latin1 bytes are its UTF-8 bytes.
  const input = scratch(0, lastDot)
  input.write(token, 0, lastDot, 'latin1')
  const signature = scratch(1, Math.ceil((encoded.length * 3) / 4))
  const length = signature.write(encoded, 0, signature.length, 'base64url')
  return nodeCrypto.verify(digest, view(0, input, lastDot), keyObject, view(1, signature, length))
}

const scratchBuffers: ScratchBuffer[] = []
// The last view of each kept buffer: a key set's signatures all have one length, and a tenant's
// tokens often share theirs, so the same view serves again rather than a new one each time.
const views: Uint8Array[] = []

/** The first `length` bytes of kept buffer `slot`, as a view. */
function view(slot: 0 | 1, buffer: ScratchBuffer, length: number): Uint8Array {
  let found = views[slot]
  if (
    found === undefined ||
    found.buffer !== buffer.buffer ||
    found.byteOffset !== buffer.byteOffset ||
    found.length !== length
  ) {
    found = buffer.subarray(0, length)
    views[slot] = found
  }
  return found
}

/** Kept buffer `slot`, at least `size` bytes long (grown in steps, never shrunk). */
function scratch(slot: 0 | 1 | 2, size: number): ScratchBuffer {
  let buffer = scratchBuffers[slot]
  if (buffer === undefined || buffer.length < size) {
    buffer = (NodeBuffer as NodeBufferLike['Buffer']).alloc(Math.max(1024, size * 2))
    scratchBuffers[slot] = buffer
  }
  return buffer
}
