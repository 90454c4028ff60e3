// The zod building blocks every concern's configuration schema is made of, so that one kind of
// value (a duration, a URL, a host name, a hook) is checked, and explained, the same way everywhere.
import { z } from 'zod'
import { isLoopbackHost } from './loopback-host.js'

const HOST =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i

/** A string with something in it besides white space. */
export const nonEmpty = z.string().trim().min(1, { error: 'expected a non-empty string' })

/** A host name such as `tenant.eu.auth0.com` (not a URL). */
export const hostName = z.string().refine((value) => HOST.test(value), {
  error: (issue) =>
    typeof issue.input === 'string' && issue.input.includes('://')
      ? "expected a host name such as 'tenant.eu.auth0.com', not a URL"
      : "expected a host name such as 'tenant.eu.auth0.com'",
})

/** A whole number of milliseconds, from 1 to `max` (one day unless said otherwise). */
export function milliseconds(max = 86_400_000) {
  return z.number().int().positive().max(max)
}

/** A whole number of milliseconds, 0 (never) to `max`. */
export function millisecondsOrZero(max: number) {
  return z.number().int().min(0).max(max)
}

/** A function, described as `what` when something else is given. */
export function hook<T>(what: string) {
  return z.custom<T>((value) => typeof value === 'function', { error: `expected ${what}` })
}

/** An object whose named members are all functions, described as `what` otherwise. */
export function implementation<T>(methods: readonly string[], what: string) {
  return z.custom<T>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((name) => typeof (value as Record<string, unknown>)[name] === 'function'),
    { error: `expected ${what}` },
  )
}

/** How {@link urlProblem} treats plain `http:`. */
export interface HttpPolicy {
  /** Accept `http:` on any host, not only a loopback one. */
  readonly anyHost?: boolean
  /** Said after the refusal of `http:` on a host that is not loopback: how to allow it. */
  readonly advice?: string
}

/**
 * The problem with a URL that should be an absolute `https:` URL (or `http:` for a loopback host,
 * or for any host when the policy says so), or undefined when there is none.
 */
export function urlProblem(value: unknown, http: HttpPolicy = {}): string | undefined {
  let url: URL
  try {
    url = new URL(value as string)
  } catch {
    return 'expected an absolute URL'
  }
  if (url.username || url.password) return 'must not contain credentials'
  if (url.hash) return 'must not contain a fragment'
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'expected an https: URL'
  if (url.protocol === 'http:' && http.anyHost !== true && !isLoopbackHost(url.hostname)) {
    return `http: is accepted only for a loopback host (localhost, 127.0.0.0/8, [::1]); use https:${http.advice ?? ''}`
  }
  return undefined
}

/** An absolute `https:` URL, or `http:` only for a loopback host. */
export const secureUrl = z.string().superRefine((value, ctx) => {
  const problem = urlProblem(value)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})
