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
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk
    chunks.push(bytes)
    size += bytes.byteLength
    if (size > limit) break
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}
