import { base64url } from 'jose'

type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>

// The first element of every nonce's MAC input: nonces of another format or purpose never match.
const NONCE_LABEL = 'canonical-auth dpop nonce v1'

/**
 * Stateless server nonces (RFC 9449 §9): the nonce of a time step is the HMAC-SHA256 of the step
 * under a shared secret, so every replica with the secret issues and accepts the same nonces and
 * none keeps state. A step is half the time to live; the nonce of the current step and of the one
 * before are accepted, so a nonce lives between half its time to live and all of it.
 */
export class NonceIssuer {
  readonly #key: Promise<HmacKey>
  readonly #stepMs: number
  // The nonces of the last steps asked for, by step.
  readonly #byStep = new Map<number, Promise<string>>()

  constructor(secret: string, ttlSeconds: number) {
    this.#stepMs = Math.floor((ttlSeconds * 1000) / 2)
    this.#key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
  }

  /** The nonce to hand out now. */
  current(nowMs: number): Promise<string> {
    return this.#nonce(Math.floor(nowMs / this.#stepMs))
  }

  /** Whether `nonce` is the nonce of the current step or of the one before. */
  async accepts(nonce: string, nowMs: number): Promise<boolean> {
    const step = Math.floor(nowMs / this.#stepMs)
    return nonce === (await this.#nonce(step)) || nonce === (await this.#nonce(step - 1))
  }

  #nonce(step: number): Promise<string> {
    let nonce = this.#byStep.get(step)
    if (nonce === undefined) {
      nonce = this.#key.then(async (key) => {
        const mac = await crypto.subtle.sign(
          'HMAC',
          key,
          new TextEncoder().encode(`${NONCE_LABEL} ${step}`),
        )
        return base64url.encode(new Uint8Array(mac))
      })
      // Two steps are ever asked for; a third one in the map is a step gone by.
      if (this.#byStep.size >= 3) this.#byStep.clear()
      this.#byStep.set(step, nonce)
    }
    return nonce
  }
}
