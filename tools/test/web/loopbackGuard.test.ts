/**
 * The Host and Origin checks shared by the loopback servers, as functions: the served port must be named, the
 * default port may be left out only when it is the served one, an IPv6 listen address is accepted in brackets, and
 * a state-changing request from another origin or site is refused.
 */
import { describe, expect, it } from "vitest";
import { ForeignOriginRefusal, HostRefusal, IsStateChanging } from "../../src/web/loopbackGuard.js";

const At8090 = { host: "127.0.0.1", port: 8090 };

describe("HostRefusal", () => {
  it("accepts the loopback names with the port, in any case", () => {
    for (const host of ["127.0.0.1:8090", "localhost:8090", "LocalHost:8090", "[::1]:8090"]) expect(HostRefusal({ host }, At8090), host).toBeUndefined();
  });

  it("refuses other names, other ports, a missing port, a missing Host and malformed values", () => {
    for (const host of ["attacker.example:8090", "127.0.0.1:8091", "localhost", "127.0.0.2:8090", "localhost.attacker.example:8090", "127.0.0.1:8090:1", "[::1]", " ", ""]) {
      expect(HostRefusal({ host }, At8090), JSON.stringify(host)).toMatch(/is not this server|no Host header/);
    }
    expect(HostRefusal({}, At8090)).toMatch(/no Host header/);
  });

  it("takes the listen address as a name too, IPv6 in brackets, and port 80 without a port", () => {
    expect(HostRefusal({ host: "127.0.0.2:8090" }, { host: "127.0.0.2", port: 8090 })).toBeUndefined();
    expect(HostRefusal({ host: "[::1]:8090" }, { host: "::1", port: 8090 })).toBeUndefined();
    expect(HostRefusal({ host: "localhost" }, { host: "127.0.0.1", port: 80 })).toBeUndefined();
    expect(HostRefusal({ host: "localhost:80" }, { host: "127.0.0.1", port: 80 })).toBeUndefined();
  });
});

describe("ForeignOriginRefusal", () => {
  it("lets the server's own origin and clients without Origin or Sec-Fetch-Site through", () => {
    expect(ForeignOriginRefusal({}, At8090)).toBeUndefined();
    expect(ForeignOriginRefusal({ origin: "http://127.0.0.1:8090", "sec-fetch-site": "same-origin" }, At8090)).toBeUndefined();
    expect(ForeignOriginRefusal({ origin: "http://localhost:8090" }, At8090)).toBeUndefined();
    expect(ForeignOriginRefusal({ "sec-fetch-site": "none" }, At8090)).toBeUndefined();
  });

  it("refuses another origin (scheme, name or port), an opaque one, and cross-site or same-site fetches", () => {
    for (const origin of ["http://attacker.example", "https://127.0.0.1:8090", "http://127.0.0.1:8091", "null", "http://127.0.0.1:8090/path", "file://"]) {
      expect(ForeignOriginRefusal({ origin }, At8090), origin).toMatch(/is foreign/);
    }
    for (const site of ["cross-site", "same-site"]) expect(ForeignOriginRefusal({ "sec-fetch-site": site }, At8090), site).toMatch(/Sec-Fetch-Site/);
  });

  it("treats every method but GET and HEAD as state-changing", () => {
    expect(["GET", "HEAD", undefined].map(IsStateChanging)).toEqual([false, false, false]);
    expect(["PUT", "POST", "DELETE", "PATCH", "OPTIONS"].map(IsStateChanging)).toEqual([true, true, true, true, true]);
  });
});
