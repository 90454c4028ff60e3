import { Worker } from 'node:worker_threads'

export interface SignerOptions {
  /** The signing key, PKCS#8 PEM. */
  readonly pem: string
  readonly kid: string
  readonly issuer: string
  readonly audience: string
  /** The first user number, and the one after the last (`Infinity`: no end). */
  readonly from: number
  readonly to: number
  /** Tokens per posted batch. */
  readonly batch: number
  /** When set, user n is `ghost<n>` (no directory knows it) if `ghostEvery` divides n + 1. */
  readonly ghostEvery?: number
}

// Signs with node:crypto (signing costs ~20× verifying, so it runs off the measured thread) and
// waits for credit before running ahead, so queued tokens never pile up in the consumer's heap.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createPrivateKey, sign } = require('node:crypto')
const { pem, kid, issuer, audience, from, to, batch, ghostEvery } = workerData
const key = createPrivateKey(pem)
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const header = b64({ alg: 'RS256', typ: 'JWT', kid })
let credit = 4
let next = from
parentPort.on('message', () => { credit += 1; pump() })
function pump() {
  while (credit > 0 && next < to) {
    const tokens = []
    const now = Math.floor(Date.now() / 1000)
    for (const end = Math.min(next + batch, to); next < end; next++) {
      const name = (ghostEvery !== undefined && (next + 1) % ghostEvery === 0 ? 'ghost' : 'u') + next
      const input = header + '.' + b64({ iss: issuer, aud: audience, sub: 'samlp|acme-waad|' + name, email: name + '@acme.com', email_verified: true, iat: now, exp: now + 3600 })
      tokens.push(input + '.' + sign('RSA-SHA256', Buffer.from(input), key).toString('base64url'))
    }
    credit -= 1
    parentPort.postMessage(tokens)
  }
}
pump()
`

/**
 * A worker thread that signs an Auth0-shaped RS256 access token for each user from `from` to `to`,
 * in order, and posts them `batch` at a time as `string[]`. It runs at most four batches ahead:
 * post it any message to grant one more.
 */
export function startSigner(options: SignerOptions): Worker {
  return new Worker(SOURCE, { eval: true, workerData: options })
}
