// RFC 9562 UUIDs of versions 1 to 8 with the RFC variant; the nil and max UUIDs are not user ids.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i

/** Whether `value` is a UUID that can name a user. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value)
}
