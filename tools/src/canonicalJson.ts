/** JSON with object keys sorted at every level (undefined values dropped): equal values give equal text, whatever order the keys were built in. Used for content hashes and cache keys. */
export function CanonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(CanonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${CanonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
