import { describe, expect, it } from 'vitest'
import { requestUrl } from '../../src/core/http/request-url.js'
import { authFailure } from '../helpers.js'

// The URL a DPoP proof is checked against, from a Node framework's parts: each part checked
// apart, so that none can move into another.

function refusal(host: string | undefined, target: string) {
  return authFailure(Promise.resolve().then(() => requestUrl('https', host, target)))
}

describe('requestUrl', () => {
  it('joins the protocol, the host and the path, leaving the query and fragment out', () => {
    expect(requestUrl('https', 'api.example.com', '/reports?year=2026#x')).toBe(
      'https://api.example.com/reports',
    )
    expect(requestUrl('http', '127.0.0.1:8080', '/')).toBe('http://127.0.0.1:8080/')
    expect(requestUrl('http', '[::1]:3000', '/a/b')).toBe('http://[::1]:3000/a/b')
    expect(requestUrl('http', 'users_api.internal', '/a%20b')).toBe(
      'http://users_api.internal/a%20b',
    )
    // A path that starts with two slashes stays a path on this host.
    expect(requestUrl('https', 'api.example.com', '//evil.example/x')).toBe(
      'https://api.example.com//evil.example/x',
    )
  })

  it('takes an absolute-form target with its own authority, whatever the Host says', () => {
    expect(requestUrl('http', 'ignored', 'http://api.example.com/reports?x=1')).toBe(
      'http://api.example.com/reports',
    )
    expect(requestUrl('http', undefined, 'https://api.example.com:8443?x')).toBe(
      'https://api.example.com:8443/',
    )
  })

  it.each([
    ['no host', undefined],
    ['an empty host', ''],
    ['a host with a path', 'x/api/transfer'],
    ['a host with a query', 'x?'],
    ['a host with a fragment', 'x#'],
    ['a host with userinfo', 'user@x'],
    ['a host with a backslash', 'x\\y'],
    ['a host with white space', 'x y'],
    ['a port that is not a number', 'x:http'],
    ['an IPv6 literal with a zone', '[fe80::1%25eth0]'],
  ])('refuses %s', async (_name, host) => {
    const error = await refusal(host, '/api/me')
    expect(error.code).toBe('invalid_request')
    expect(error.message).toBe('The request has no usable Host header')
  })

  it.each([
    '/a/../b',
    '/a/./b',
    '/a/..',
    '/..',
    '/a/%2e%2e/b',
    '/a/%2E%2e/b',
    '/a/.%2e/b',
    '/a/%2e/b',
  ])('refuses the path %s, which a router and a proof would read apart', async (target) => {
    const error = await refusal('api.example.com', target)
    expect(error.code).toBe('invalid_request')
    expect(error.message).toBe('The request path has dot segments')
  })

  it('refuses a backslash anywhere in the target, which URL parsers read as a slash', async () => {
    for (const target of ['/a\\b', 'http://h\\api/me', '/a?x=\\']) {
      const error = await refusal('api.example.com', target)
      expect(error.code).toBe('invalid_request')
      expect(error.message).toBe('The request target has a backslash')
    }
  })

  it.each(['api.example.com:99999', '1.2.3.999', '[1:2]'])(
    'refuses the host %s, which is no host once parsed',
    async (host) => {
      const error = await refusal(host, '/api/me')
      expect(error.code).toBe('invalid_request')
      expect(error.message).toBe('The request has no usable Host header')
    },
  )

  it('keeps dots that are not segments', () => {
    expect(requestUrl('https', 'api.example.com', '/a/.well-known/b..c/...')).toBe(
      'https://api.example.com/a/.well-known/b..c/...',
    )
  })

  it('refuses a target that is neither a path nor an http URL', async () => {
    for (const target of ['*', 'api.example.com:443', 'ftp://example.com/x', 'http://']) {
      expect((await refusal('api.example.com', target)).code).toBe('invalid_request')
    }
  })
})
