// The names the benchmark servers are chosen by, kept apart from server.ts, which starts a server
// when imported.

/** The frameworks in the comparison. */
export const FRAMEWORKS = ['express', 'fastify', 'koa'] as const
export type Framework = (typeof FRAMEWORKS)[number]

/**
 * The guard that only checks the RS256 signature of each request's Bearer token with node:crypto:
 * the least work a guard that checks every request's token must do.
 */
export const SIGNATURE_ONLY = 'signature check only (node:crypto)'

/**
 * A guard that does nothing but hand the request on, in the framework's own way: what the
 * framework itself charges for a middleware or hook, the most any guard can keep of no auth.
 */
export const NO_OP = 'no-op guard (the framework alone)'
