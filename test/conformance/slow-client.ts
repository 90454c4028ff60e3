import { connect } from 'node:net'

/** What a server answered a {@link slowPost}. */
export interface SlowAnswer {
  readonly status: number
  /** Response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** How many body bytes had been sent when the answer arrived. */
  readonly sentBeforeAnswer: number
}

export interface SlowPostOptions {
  /** Request headers besides `host` and `content-length` (which is the full body's length). */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** Body bytes sent with the head, at once. */
  readonly atOnce?: number
  /** Then this many bytes every `everyMs`, until the answer arrives. 0: nothing more is sent. */
  readonly chunkBytes: number
  readonly everyMs: number
  /** `close`: resolve once the server has answered and closed the connection; `answer`: once the answer is complete. */
  readonly until: 'answer' | 'close'
  /** Reject when that has not happened within this many milliseconds. */
  readonly withinMs: number
}

/**
 * POSTs over a raw socket the way a slow client does: the head, then the body a few bytes at a
 * time, stopping as soon as the server answers. The server's answer is parsed by hand, so nothing
 * between the test and the server buffers or times out on its own.
 */
export function slowPost(
  origin: string,
  path: string,
  options: SlowPostOptions,
): Promise<SlowAnswer> {
  const { hostname, port } = new URL(origin)
  const body = Buffer.from(options.body)
  const head = [
    `POST ${path} HTTP/1.1`,
    `host: ${hostname}:${port}`,
    `content-length: ${body.byteLength}`,
    ...Object.entries(options.headers).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n')
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let received = Buffer.alloc(0)
    let sent = 0
    let sentBeforeAnswer: number | undefined
    let answer: SlowAnswer | undefined
    let trickle: ReturnType<typeof setInterval> | undefined
    const giveUp = setTimeout(
      () => finish(new Error(`no ${options.until} within ${options.withinMs} ms`)),
      options.withinMs,
    )
    const finish = (error?: Error) => {
      clearInterval(trickle)
      clearTimeout(giveUp)
      socket.destroy()
      if (error !== undefined) reject(error)
      else if (answer === undefined) reject(new Error('the connection closed without an answer'))
      else resolve(answer)
    }
    socket.on('connect', () => {
      socket.write(head)
      sent = Math.min(options.atOnce ?? 0, body.byteLength)
      if (sent > 0) socket.write(body.subarray(0, sent))
      if (options.chunkBytes === 0) return
      trickle = setInterval(() => {
        if (sentBeforeAnswer !== undefined || sent >= body.byteLength || socket.destroyed) return
        const next = Math.min(sent + options.chunkBytes, body.byteLength)
        socket.write(body.subarray(sent, next))
        sent = next
      }, options.everyMs)
    })
    socket.on('data', (data: Buffer) => {
      sentBeforeAnswer ??= sent
      received = Buffer.concat([received, data])
      answer = parse(received, sentBeforeAnswer)
      if (answer !== undefined && options.until === 'answer') finish()
    })
    // A reset after the answer (the server closed while body bytes were in flight) is a close.
    socket.on('error', () => {})
    socket.on('close', () => finish())
  })
}

function parse(received: Buffer, sentBeforeAnswer: number): SlowAnswer | undefined {
  const end = received.indexOf('\r\n\r\n')
  if (end === -1) return undefined
  const [statusLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const body = received.subarray(end + 4)
  if (body.byteLength < Number(headers['content-length'])) return undefined
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: body.toString('utf8'),
    sentBeforeAnswer,
  }
}
