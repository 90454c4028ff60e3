import ky, { HTTPError } from 'ky'
import { LRUCache } from 'lru-cache'
import { z } from 'zod'
import { AuthError } from './errors.js'
import { toUpstreamError, UpstreamError } from './upstream.js'

/** The profile facts canonical-auth reads from Auth0 `/userinfo`. */
export interface UserinfoProfile {
  readonly email?: string
  readonly emailVerified?: boolean
}

const profileSchema = z.object({
  sub: z.string(),
  email: z.string().optional(),
  email_verified: z.boolean().optional(),
})

/**
 * Reads the email from Auth0 `/userinfo` with the user's own access token, for access tokens that
 * carry no email claim. Answers are cached per issuer+sub. A 401/403 means the token cannot read
 * the profile (`identity_untrusted`); an outage fails closed (`directory_unavailable`, 502).
 */
export class UserinfoClient {
  readonly #timeoutMs: number
  readonly #cache: LRUCache<string, UserinfoProfile>

  constructor(options: { timeoutMs: number; ttlMs: number; max: number }) {
    this.#timeoutMs = options.timeoutMs
    this.#cache = new LRUCache({ max: options.max, ttl: options.ttlMs })
  }

  async profile(issuer: string, subject: string, token: string): Promise<UserinfoProfile> {
    const key = `${issuer}\n${subject}`
    const cached = this.#cache.get(key)
    if (cached !== undefined) return cached
    let body: unknown
    try {
      body = await ky
        .get(new URL('userinfo', issuer.endsWith('/') ? issuer : `${issuer}/`), {
          timeout: this.#timeoutMs,
          retry: { limit: 1, methods: ['get'], statusCodes: [429, 500, 502, 503, 504] },
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        })
        .json()
    } catch (error) {
      if (
        error instanceof HTTPError &&
        (error.response.status === 401 || error.response.status === 403)
      ) {
        throw new AuthError('identity_untrusted', 'The token cannot read the user profile', {
          cause: toUpstreamError('userinfo', error),
        })
      }
      throw new AuthError(
        'directory_unavailable',
        'The identity provider could not supply the user profile',
        {
          cause: toUpstreamError('userinfo', error),
        },
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
