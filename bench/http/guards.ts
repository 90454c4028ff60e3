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

/**
 * The no-op guard in a server that has loaded canonical-auth, made its instance and used `fetch`
 * once, never calling the instance: what the library's resident heap (its modules, fetch's, its
 * caches) costs the framework's own garbage collection, apart from any work of the guard.
 */
export const LOADED_NO_OP = 'no-op guard, canonical-auth loaded'
