import { HttpResponse, http, passthrough } from 'msw'
import { setupServer } from 'msw/node'

/** Every non-loopback request no handler answered. Tests assert it stays empty. */
export const strayRequests: string[] = []

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

/**
 * The one msw server of the test run. Loopback traffic (the testing kit's servers) passes through
 * on purpose; anything else not answered by a test's handlers is refused with a network error and
 * recorded, so no test can reach the outside.
 */
export const server = setupServer(
  http.all('*', ({ request }) => {
    if (LOOPBACK.has(new URL(request.url).hostname)) return passthrough()
    strayRequests.push(`${request.method} ${request.url}`)
    return HttpResponse.error()
  }),
)
