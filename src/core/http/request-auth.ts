import type { AuthContext } from '../types.js'

/** A Node framework's request object, as far as {@link setRequestAuth} touches it. */
export interface RequestWithAuth {
  auth?: AuthContext
}

// Express gives each request its app's `request` prototype (Object.setPrototypeOf) and then adds
// properties of its own. V8 keeps no shared layout for objects made so: every property added to
// such a request copies the object's layout into a new hidden class (several µs, and one more
// object for the collector), and no two requests share one. So on an Express request `auth` is
// not added: it is an accessor on Express's shared request prototype, put there once, and its
// value is kept per request in a WeakMap. Reading and setting `req.auth` (by anyone) work as they
// would on a property of the request, in the app and in any app mounted in it.
const values = new WeakMap<object, AuthContext | undefined>()
const ACCESSOR: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: object) {
    return values.get(this)
  },
  set(this: object, value: AuthContext | undefined) {
    values.set(this, value)
  },
}

// Per request prototype: whether `auth` on its requests is that accessor (each looked at once), and
// the last one asked about.
const reaching = new WeakMap<object, boolean>()
let lastPrototype: object | null | undefined
let lastReaches = false

/**
 * `request.auth = context`, without giving an Express request a hidden class of its own: see
 * above. Any other object (a Fastify request, whose `auth` is declared up front, or one Express
 * did not make) gets the property as it is.
 */
export function setRequestAuth(request: RequestWithAuth, context: AuthContext): void {
  const prototype = Object.getPrototypeOf(request) as object | null
  if (prototype !== lastPrototype) {
    lastPrototype = prototype
    lastReaches = prototype !== null && reachesAccessor(request, prototype)
  }
  // The value is kept directly rather than through the setter: an object of a hidden class of its
  // own makes V8 look the setter up along the prototypes on every assignment. A request with an
  // `auth` of its own (set before the accessor was there), which would hide the kept value, is
  // assigned to as it is.
  if (lastReaches && !Object.hasOwn(request, 'auth')) values.set(request, context)
  else request.auth = context
}

function reachesAccessor(request: RequestWithAuth, prototype: object): boolean {
  let reaches = reaching.get(prototype)
  if (reaches === undefined) {
    install(request, prototype)
    reaches = setterOf(prototype) === ACCESSOR.set
    reaching.set(prototype, reaches)
  }
  return reaches
}

/** The setter of the first `auth` along the prototypes from `prototype`, if any. */
function setterOf(prototype: object): unknown {
  for (let at: object | null = prototype; at !== null; at = Object.getPrototypeOf(at)) {
    const descriptor = Object.getOwnPropertyDescriptor(at, 'auth')
    if (descriptor !== undefined) return descriptor.set
  }
  return undefined
}

function install(request: RequestWithAuth, prototype: object): void {
  // An Express request's prototype is its app's `request`, which has the app as its own `app`, and
  // which inherits from the `request` of the app it is mounted in, and so on up to the `request`
  // every app of that Express shares (Express 4 and 5 alike). The accessor goes on that last one,
  // so that `req.auth` reads the same in every app the request passes through.
  const app = (request as { app?: { request?: unknown } }).app
  if (app?.request !== prototype) return
  let shared: object | null = prototype
  while (shared !== null && Object.hasOwn(shared, 'app')) shared = Object.getPrototypeOf(shared)
  if (shared === null || Object.getOwnPropertyDescriptor(shared, 'auth') !== undefined) return
  Object.defineProperty(shared, 'auth', ACCESSOR)
}
