import { AuthError } from '../errors.js'

/** What {@link readBody} read. */
export interface BodyRead {
  /** The bytes read: the whole body, or the first `limit + 1` bytes of a longer one. */
  readonly bytes: Uint8Array
  /** Whether the body was read to its end. `false` when it was cut at the limit. */
  readonly ended: boolean
}

/** How {@link readBody} reads. */
export interface ReadBodyOptions {
  /** The most bytes a body may have; one more is read to tell a longer body apart. */
  readonly limit: number
  /** Milliseconds the whole body has to arrive in, counted from the call. */
  readonly deadlineMs: number
}

/**
 * Reads a request body stream (a Node `IncomingMessage`, a fetch `ReadableStream`) up to `limit`
 * bytes plus one, so an endless body cannot fill memory, and within `deadlineMs`, so a body sent
 * a byte at a time cannot hold the request open: past the deadline it rejects with
 * `invalid_request`. The timer is cleared as soon as the read ends, whichever way it ends.
 *
 * It never destroys the stream: the answer still has to go out on its connection. A caller that
 * answers before the body ended should close the connection after the answer.
 */
export async function readBody(
  stream: AsyncIterable<Uint8Array | string>,
  { limit, deadlineMs }: ReadBodyOptions,
): Promise<BodyRead> {
  const chunks: Uint8Array[] = []
  let size = 0
  let ended = false
  const encoder = new TextEncoder()
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new AuthError('invalid_request', 'The request body did not arrive in time')),
      deadlineMs,
    )
  })
  try {
    // Iterated by hand: leaving a `for await` early would destroy the request, and with it the
    // socket the answer still has to go out on.
    const iterator = stream[Symbol.asyncIterator]()
    while (size <= limit) {
      const next = await Promise.race([iterator.next(), late])
      if (next.done === true) {
        ended = true
        break
      }
      const bytes = typeof next.value === 'string' ? encoder.encode(next.value) : next.value
      chunks.push(bytes)
      size += bytes.byteLength
    }
  } finally {
    clearTimeout(timer)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return { bytes, ended }
}

/**
 * A fetch `Request`'s body as the chunks {@link readBody} reads (`null`, no body, is no chunk),
 * read through its reader: not every runtime's streams are async iterable.
 */
export async function* bodyChunks(
  body: ReadableStream<Uint8Array> | null,
): AsyncGenerator<Uint8Array> {
  if (body === null) return
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    yield value
  }
}
