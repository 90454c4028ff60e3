// The web-platform globals the core (src/index.ts, src/core, src/stores) may use, for
// tsconfig.core.json, which type-checks the core with neither @types/node nor lib.dom: what
// Node 20, Deno, Bun, Cloudflare Workers and other edge runtimes all provide. Anything not
// declared here fails that check: `Buffer`, `process`, `node:*` modules and `NodeJS.*` types
// (Node only), `document`, `window`, `localStorage` (browsers only), and members a runtime the
// package supports lacks (`URL.parse` is not in Node 20).
//
// Each declaration is a subset of the WHATWG or W3C interface of the same name, as TypeScript's
// lib.dom declares it: a member may be added here when the core needs it and every runtime above
// has it. Also declared, as types only: what the types of ky and jose refer to.

// As @types/node declares it for Web Crypto; lib.dom also refuses views of a SharedArrayBuffer.
type BufferSource = ArrayBufferView | ArrayBuffer

// Timers: the handle is opaque (a number on the web, a `Timeout` on Node): no `.unref()`.
type TimerHandle = NonNullable<unknown>
declare function setTimeout<Args extends unknown[]>(
  handler: (...args: Args) => void,
  timeout?: number,
  ...args: Args
): TimerHandle
declare function clearTimeout(handle: TimerHandle | undefined): void
declare function queueMicrotask(callback: () => void): void
declare function structuredClone<T>(value: T): T

declare function atob(data: string): string
declare function btoa(data: string): string

interface AbortSignal {
  readonly aborted: boolean
  readonly reason: unknown
  throwIfAborted(): void
  addEventListener(
    type: 'abort',
    listener: () => void,
    options?: { readonly once?: boolean; readonly signal?: AbortSignal },
  ): void
  removeEventListener(type: 'abort', listener: () => void): void
}
declare var AbortSignal: {
  prototype: AbortSignal
  abort(reason?: unknown): AbortSignal
  timeout(milliseconds: number): AbortSignal
  any(signals: readonly AbortSignal[]): AbortSignal
}

interface AbortController {
  readonly signal: AbortSignal
  abort(reason?: unknown): void
}
declare var AbortController: { prototype: AbortController; new (): AbortController }

interface DOMException extends Error {
  readonly code: number
}
declare var DOMException: {
  prototype: DOMException
  new (message?: string, name?: string): DOMException
}

interface TextEncoder {
  readonly encoding: string
  encode(input?: string): Uint8Array<ArrayBuffer>
}
declare var TextEncoder: { prototype: TextEncoder; new (): TextEncoder }

interface TextDecoder {
  readonly encoding: string
  readonly fatal: boolean
  readonly ignoreBOM: boolean
  decode(input?: AllowSharedBufferSource, options?: { readonly stream?: boolean }): string
}
type AllowSharedBufferSource = ArrayBufferLike | ArrayBufferView
declare var TextDecoder: {
  prototype: TextDecoder
  new (
    label?: string,
    options?: { readonly fatal?: boolean; readonly ignoreBOM?: boolean },
  ): TextDecoder
}

interface URL {
  hash: string
  host: string
  hostname: string
  href: string
  readonly origin: string
  password: string
  pathname: string
  port: string
  protocol: string
  search: string
  readonly searchParams: URLSearchParams
  username: string
  toJSON(): string
  toString(): string
}
declare var URL: {
  prototype: URL
  new (url: string | URL, base?: string | URL): URL
  canParse(url: string | URL, base?: string | URL): boolean
}

interface URLSearchParams {
  readonly size: number
  append(name: string, value: string): void
  delete(name: string, value?: string): void
  get(name: string): string | null
  getAll(name: string): string[]
  has(name: string, value?: string): boolean
  set(name: string, value: string): void
  sort(): void
  toString(): string
  forEach(callback: (value: string, key: string, parent: URLSearchParams) => void): void
  entries(): ArrayIterator<[string, string]>
  keys(): ArrayIterator<string>
  values(): ArrayIterator<string>
  [Symbol.iterator](): ArrayIterator<[string, string]>
}
declare var URLSearchParams: {
  prototype: URLSearchParams
  new (
    init?:
      | readonly (readonly [string, string])[]
      | Record<string, string>
      | string
      | URLSearchParams,
  ): URLSearchParams
}

type HeadersInit = [string, string][] | Record<string, string> | Headers
interface Headers {
  append(name: string, value: string): void
  delete(name: string): void
  get(name: string): string | null
  getSetCookie(): string[]
  has(name: string): boolean
  set(name: string, value: string): void
  forEach(callback: (value: string, key: string, parent: Headers) => void): void
  entries(): ArrayIterator<[string, string]>
  keys(): ArrayIterator<string>
  values(): ArrayIterator<string>
  [Symbol.iterator](): ArrayIterator<[string, string]>
}
declare var Headers: { prototype: Headers; new (init?: HeadersInit): Headers }

type ReadableStreamReadResult<T> =
  | { readonly done: false; readonly value: T }
  | { readonly done: true; readonly value?: undefined }
interface ReadableStreamDefaultReader<R> {
  readonly closed: Promise<void>
  cancel(reason?: unknown): Promise<void>
  read(): Promise<ReadableStreamReadResult<R>>
  releaseLock(): void
}
interface ReadableStream<R> {
  readonly locked: boolean
  cancel(reason?: unknown): Promise<void>
  getReader(): ReadableStreamDefaultReader<R>
  [Symbol.asyncIterator](): AsyncIterableIterator<R>
}

// Types only, for ky's declarations: the core neither makes nor reads these.
interface Blob {
  readonly size: number
  readonly type: string
  arrayBuffer(): Promise<ArrayBuffer>
  text(): Promise<string>
}
interface FormData {
  append(name: string, value: string | Blob): void
  get(name: string): string | Blob | null
  has(name: string): boolean
}

type BodyInit =
  | ReadableStream<Uint8Array>
  | Blob
  | BufferSource
  | FormData
  | URLSearchParams
  | string

interface Body {
  readonly body: ReadableStream<Uint8Array<ArrayBuffer>> | null
  readonly bodyUsed: boolean
  arrayBuffer(): Promise<ArrayBuffer>
  blob(): Promise<Blob>
  formData(): Promise<FormData>
  json(): Promise<unknown>
  text(): Promise<string>
}

type RequestRedirect = 'error' | 'follow' | 'manual'
interface RequestInit {
  body?: BodyInit | null
  cache?: 'default' | 'force-cache' | 'no-cache' | 'no-store' | 'only-if-cached' | 'reload'
  credentials?: 'include' | 'omit' | 'same-origin'
  headers?: HeadersInit
  integrity?: string
  keepalive?: boolean
  method?: string
  mode?: 'cors' | 'navigate' | 'no-cors' | 'same-origin'
  redirect?: RequestRedirect
  referrer?: string
  signal?: AbortSignal | null
}
interface Request extends Body {
  readonly headers: Headers
  readonly method: string
  readonly redirect: RequestRedirect
  readonly signal: AbortSignal
  readonly url: string
  clone(): Request
}
declare var Request: {
  prototype: Request
  new (input: Request | URL | string, init?: RequestInit): Request
}

interface ResponseInit {
  headers?: HeadersInit
  status?: number
  statusText?: string
}
interface Response extends Body {
  readonly headers: Headers
  readonly ok: boolean
  readonly redirected: boolean
  readonly status: number
  readonly statusText: string
  readonly type: 'basic' | 'cors' | 'default' | 'error' | 'opaque' | 'opaqueredirect'
  readonly url: string
  clone(): Response
}
declare var Response: {
  prototype: Response
  new (body?: BodyInit | null, init?: ResponseInit): Response
  error(): Response
  json(data: unknown, init?: ResponseInit): Response
  redirect(url: string | URL, status?: number): Response
}

declare function fetch(input: Request | URL | string, init?: RequestInit): Promise<Response>

type KeyUsage =
  | 'decrypt'
  | 'deriveBits'
  | 'deriveKey'
  | 'encrypt'
  | 'sign'
  | 'unwrapKey'
  | 'verify'
  | 'wrapKey'
type AlgorithmIdentifier = string | { readonly name: string }
interface CryptoKey {
  readonly algorithm: { readonly name: string }
  readonly extractable: boolean
  readonly type: 'private' | 'public' | 'secret'
  readonly usages: KeyUsage[]
}
interface SubtleCrypto {
  digest(algorithm: AlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer>
  importKey(
    format: 'pkcs8' | 'raw' | 'spki',
    keyData: BufferSource,
    algorithm: AlgorithmIdentifier | { readonly name: string; readonly hash?: AlgorithmIdentifier },
    extractable: boolean,
    keyUsages: readonly KeyUsage[],
  ): Promise<CryptoKey>
  sign(algorithm: AlgorithmIdentifier, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>
  verify(
    algorithm: AlgorithmIdentifier,
    key: CryptoKey,
    signature: BufferSource,
    data: BufferSource,
  ): Promise<boolean>
}
interface Crypto {
  readonly subtle: SubtleCrypto
  getRandomValues<T extends ArrayBufferView>(array: T): T
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`
}
declare var crypto: Crypto
