/**
 * Whether a URL host name is a loopback address: `localhost`, `127.0.0.0/8` or `[::1]`. Only these
 * may be reached over plain `http:` without saying so. Names under `.localhost` are not: they are
 * resolved like any other name, so they may lead off the machine.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase()
  return (
    host === 'localhost' ||
    host === '[::1]' ||
    /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host)
  )
}
