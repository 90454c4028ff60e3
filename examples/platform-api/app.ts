import { type AuthConfig, type CanonicalUser, createAuth } from 'canonical-auth'
import { discoverHandler, requireAuth } from 'canonical-auth/express'
import express from 'express'

export interface Membership {
  readonly organization: string
  readonly role: 'member'
}

/**
 * platform-api: the service other services used to call for `/validate`. It now embeds
 * canonical-auth, and keeps its own records (organisation memberships) next to the canonical user.
 */
export function createPlatformApi(config: AuthConfig) {
  // Stands in for the service's own table (DynamoDB in the real platform-api).
  const memberships = new Map<string, Membership[]>()

  // Idempotent: safe from the JIT hook and from /organizations/me alike. A user the directory
  // created while another service was serving them gets their membership on first visit here.
  const ensureMembership = (user: CanonicalUser): Membership[] => {
    const existing = memberships.get(user.id)
    if (existing !== undefined) return existing
    const domain = user.email?.split('@')[1] ?? 'unknown'
    const created: Membership[] = [{ organization: domain.split('.')[0] ?? domain, role: 'member' }]
    memberships.set(user.id, created)
    return created
  }

  const auth = createAuth({ ...config, onUserCreated: (user) => void ensureMembership(user) })
  const app = express()
  app.disable('x-powered-by')

  app.post('/public/auth/discover', discoverHandler(auth))

  // What other services call today: who is this token?
  app.get('/validate', requireAuth(auth), (req, res) => {
    const { userId, user } = req.auth ?? {}
    res.json({ userId, email: user?.email ?? null, source: user?.source })
  })

  app.get('/check', requireAuth(auth), (req, res) => {
    res.json({ valid: true, userId: req.auth?.userId })
  })

  app.get('/organizations/me', requireAuth(auth), (req, res) => {
    const context = req.auth
    if (context === undefined) return
    res.json({ userId: context.userId, organizations: ensureMembership(context.user) })
  })

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true })
  })

  return { app, auth, memberships }
}
