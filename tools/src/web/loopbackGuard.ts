/**
 * Request checks shared by the loopback servers (the seed editor's and the samples'). Listening on 127.0.0.1 is not
 * enough: a web page on a rebinding domain (attacker.example resolving to 127.0.0.1) reaches the server from the
 * user's browser with its own name in `Host`, and any page can send a cross-site form or `fetch` to it. So:
 *
 * - every request must name the server by a loopback name and its port in `Host` (what webpack-dev-server and Vite
 *   do with their host allow-lists);
 * - a state-changing request must come from the server's own origin: a foreign `Origin` or a `Sec-Fetch-Site` other
 *   than same-origin is refused.
 */
import type { IncomingHttpHeaders } from "node:http";

/** Names a browser may use for a server on this machine (besides the address it listens on). */
export const LoopbackHostNames: readonly string[] = ["127.0.0.1", "localhost", "[::1]"];

/** Where a loopback server listens; the names it accepts are derived from it. */
export interface LoopbackAddress {
  /** The address it listens on (`127.0.0.1`, `::1`, ...). */
  readonly host: string;
  readonly port: number;
}

/** Methods that read only; everything else changes state and gets the origin checks. */
export const SafeMethods: readonly string[] = ["GET", "HEAD"];

/** True for a request that may change state (anything but GET and HEAD). */
export function IsStateChanging(method: string | undefined): boolean {
  return !SafeMethods.includes(method ?? "GET");
}

function AllowedHostNames(address: LoopbackAddress): string[] {
  const listen = address.host.includes(":") ? `[${address.host}]` : address.host;
  return [...new Set([...LoopbackHostNames, listen.toLowerCase()])];
}

/** `host[:port]` as the browser sends it in `Host`, or the host part of an origin; undefined when malformed. */
function ParseHostPort(value: string): { name: string; port: number | undefined } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (match === null) return undefined;
  return { name: match[1].toLowerCase(), port: match[2] === undefined ? undefined : Number(match[2]) };
}

function NamesThisServer(hostPort: string, address: LoopbackAddress): boolean {
  const parsed = ParseHostPort(hostPort);
  if (parsed === undefined || !AllowedHostNames(address).includes(parsed.name)) return false;
  // Browsers leave out the default port.
  return (parsed.port ?? 80) === address.port;
}

/**
 * Checks `Host`.
 * @returns why the request is refused, or undefined when `Host` is a loopback name with the served port
 */
export function HostRefusal(headers: IncomingHttpHeaders, address: LoopbackAddress): string | undefined {
  const host = headers.host;
  if (host === undefined || host === "") return "the request has no Host header";
  if (NamesThisServer(host, address)) return undefined;
  const names = AllowedHostNames(address).map((name) => `${name}:${address.port}`).join(", ");
  return `Host ${JSON.stringify(host)} is not this server: it answers only ${names} (a foreign name is how a web page reaches a local server by DNS rebinding)`;
}

/**
 * Checks where a state-changing request comes from: `Origin`, when sent, must be this server's own
 * (`http://<loopback name>:<port>`), and `Sec-Fetch-Site`, when sent, must be `same-origin` (or `none`: typed by the
 * user). Clients that send neither (curl, scripts) pass here and meet the other checks.
 * @returns why the request is refused, or undefined
 */
export function ForeignOriginRefusal(headers: IncomingHttpHeaders, address: LoopbackAddress): string | undefined {
  const origin = headers.origin;
  if (origin !== undefined) {
    const match = /^http:\/\/([^/]+)$/i.exec(origin);
    if (match === null || !NamesThisServer(match[1], address)) return `Origin ${JSON.stringify(origin)} is foreign: only pages served by this server may change anything`;
  }
  const site = headers["sec-fetch-site"];
  if (site !== undefined && (Array.isArray(site) || (site !== "same-origin" && site !== "none"))) return `Sec-Fetch-Site ${JSON.stringify(site)}: only pages served by this server may change anything`;
  return undefined;
}
