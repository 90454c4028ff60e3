/**
 * Reads a request body stream (a Node `IncomingMessage` is one) when no body parser ran, up to
 * `limit` bytes plus one: a longer body is cut there, which the discover handler refuses as too
 * large, so an endless body cannot fill memory.
 */
export async function readBody(
  stream: AsyncIterable<Uint8Array | string>,
  limit = 4_096,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  const encoder = new TextEncoder()
  // Iterated by hand: leaving a `for await` early would destroy the request, and with it the
  // socket the answer still has to go out on.
  const iterator = stream[Symbol.asyncIterator]()
  while (size <= limit) {
    const next = await iterator.next()
    if (next.done === true) break
    const bytes = typeof next.value === 'string' ? encoder.encode(next.value) : next.value
    chunks.push(bytes)
    size += bytes.byteLength
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}
