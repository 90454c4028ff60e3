import { AuthError } from '../errors.js'

// RFC 9110 §7.2 Host: a registered name or IPv4 address (unreserved characters only), or an IPv6
// literal in brackets, and an optional port. Nothing that could end the authority early (`/`, `?`,
// `#`, `@`, `\`) or hide in it.
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/
// A `.` or `..` segment, spelt out or percent-encoded: a path that names one place to the router
// and another once normalised.
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i

/**
 * The absolute URL a request was sent to, for a DPoP proof's `htu`, from the parts a Node
 * framework hands over: its protocol, its `Host` (as the framework reads it, `X-Forwarded-Host`
 * only behind a trusted proxy) and the request target as received. Each part is checked apart, so
 * that none can move into another: the host must be a host (and port), the path is the target's
 * up to its query, and an absolute-form target (RFC 9112 §3.2.2) brings its own authority. A path
 * with dot segments or a backslash, which the router and the proof would read differently, is
 * refused. Throws `invalid_request` for anything else.
 */
export function requestUrl(protocol: string, host: string | undefined, target: string): string {
  // A backslash is a slash to URL parsers and a character to routers, in the path or the authority.
  if (target.includes('\\')) {
    throw new AuthError('invalid_request', 'The request target has a backslash')
  }
  let origin: string
  let path: string
  if (target.startsWith('/')) {
    if (host === undefined || !HOST.test(host)) {
      throw new AuthError('invalid_request', 'The request has no usable Host header')
    }
    origin = `${protocol}://${host}`
    const end = target.search(/[?#]/)
    path = end === -1 ? target : target.slice(0, end)
  } else {
    let url: URL | undefined
    try {
      url = new URL(target)
    } catch {
      url = undefined
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new AuthError('invalid_request', 'The request target is not a path or an http URL')
    }
    origin = url.origin
    const rest = target.slice(target.indexOf('//') + 2)
    const start = rest.search(/[/?#]/)
    const afterAuthority = start === -1 ? '/' : rest.slice(start)
    const end = afterAuthority.search(/[?#]/)
    path = end === -1 ? afterAuthority : afterAuthority.slice(0, end)
    if (!path.startsWith('/')) path = `/${path}`
  }
  if (DOT_SEGMENT.test(path)) {
    throw new AuthError('invalid_request', 'The request path has dot segments')
  }
  const url = origin + path
  // What the pattern lets through that is still no URL: a port past 65535, an IPv4-like name with
  // a part past 255, a bracketed literal that is no IPv6 address.
  if (!URL.canParse(url)) {
    throw new AuthError('invalid_request', 'The request has no usable Host header')
  }
  return url
}
