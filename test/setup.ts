import { afterAll, afterEach, beforeAll } from 'vitest'
import { server, strayRequests } from './msw.js'

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  server.resetHandlers()
  strayRequests.length = 0
})
afterAll(() => server.close())
