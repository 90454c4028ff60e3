import type { LRUCache } from 'lru-cache'
import { z } from 'zod'
import { AuthError, isAuthError } from '../errors.js'
import { expiringCache } from '../lib/expiring-cache.js'
import { statusError, toUpstreamError, UpstreamError } from '../upstream/client.js'
import { upstreamRequest } from '../upstream/request.js'

/** The profile facts canonical-auth reads from Auth0 `/userinfo`. */
export interface UserinfoProfile {
  readonly email?: string
  readonly emailVerified?: boolean
}

// A profile is one small JSON object.
const MAX_PROFILE_BYTES = 16_384

const profileSchema = z.object({
  sub: z.string(),
  email: z.string().optional(),
  email_verified: z.boolean().optional(),
})

/**
 * Reads the email from Auth0 `/userinfo` with the user's own access token, for access tokens that
 * carry no email claim. Answers are cached per issuer+sub. A 401/403 means the token cannot read
 * the profile (`identity_untrusted`); an outage fails closed (`directory_unavailable`, 502), and
 * so does a redirect (never followed: it would let another host supply the profile that gets
 * linked, and send it the user's token), a body past 16 KiB or one still arriving at the deadline.
 */
export class UserinfoClient {
  readonly #timeoutMs: number
  readonly #cache: LRUCache<string, UserinfoProfile>

  constructor(options: { timeoutMs: number; maxAgeMs: number; max: number }) {
    this.#timeoutMs = options.timeoutMs
    this.#cache = expiringCache(options.max, options.maxAgeMs)
  }

  async profile(issuer: string, subject: string, token: string): Promise<UserinfoProfile> {
    const key = `${issuer}\n${subject}`
    const cached = this.#cache.get(key)
    if (cached !== undefined) return cached
    let body: unknown
    try {
      body = await upstreamRequest(
        { upstream: 'userinfo', timeoutMs: this.#timeoutMs, maxBytes: MAX_PROFILE_BYTES },
        {
          url: new URL('userinfo', issuer.endsWith('/') ? issuer : `${issuer}/`),
          headers: { authorization: `Bearer ${token}` },
        },
        (response) => {
          if (response.status === 401 || response.status === 403) {
            throw new AuthError('identity_untrusted', 'The token cannot read the user profile', {
              cause: statusError('userinfo', response.status),
            })
          }
          if (!response.ok) throw statusError('userinfo', response.status)
          return response.json()
        },
      )
    } catch (error) {
      if (isAuthError(error)) throw error
      throw new AuthError(
        'directory_unavailable',
        'The identity provider could not supply the user profile',
        { cause: toUpstreamError('userinfo', error) },
      )
    }
    const parsed = profileSchema.safeParse(body)
    if (!parsed.success || parsed.data.sub !== subject) {
      throw new AuthError(
        'directory_unavailable',
        'The identity provider could not supply the user profile',
        {
          cause: new UpstreamError(
            'userinfo',
            'invalid_response',
            'answered with an unexpected profile',
          ),
        },
      )
    }
    const profile: UserinfoProfile = {
      ...(parsed.data.email === undefined ? {} : { email: parsed.data.email }),
      ...(parsed.data.email_verified === undefined
        ? {}
        : { emailVerified: parsed.data.email_verified }),
    }
    this.#cache.set(key, profile)
    return profile
  }
}
