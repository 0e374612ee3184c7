/**
 * The samples' static server without a browser: isolation headers, MIME types, the model and config routes, no
 * way out of the served folder, methods, a foreign `Host` (DNS rebinding) refused, and the command-line parsing
 * of `--port` / `PORT` / `--model`.
 */
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SampleModel } from "@npc-faces/samples/sampleModel";
import { ParseServerArgs, StartSampleServerAsync, type SampleServer } from "@npc-faces/samples/server";
import { RawRequestAsync as SendRawAsync, type RawResponse } from "../../tools/test/web/rawHttp.js";

/** A request with the path and headers sent exactly as given (fetch would normalise `..` away and replace `Host`). */
function RawRequestAsync(server: SampleServer, path: string, method = "GET", headers: Record<string, string> = {}): Promise<RawResponse> {
  return SendRawAsync(server.port, { path, method, headers });
}

let folder: string;
let server: SampleServer;
const modelBytes = Buffer.from("not really a model, the server does not look inside");

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "npc-faces-server-"));
  const root = join(folder, "site");
  await mkdir(join(root, "ort"), { recursive: true });
  await writeFile(join(root, "index.html"), "<!doctype html><title>x</title>");
  await writeFile(join(root, "main.js"), "export {};");
  await writeFile(join(root, "ort", "a.wasm"), Buffer.from([0, 97, 115, 109]));
  await writeFile(join(root, "ort", "a.mjs"), "export {};");
  await writeFile(join(folder, "secret.txt"), "outside the root");
  await symlink(join(folder, "secret.txt"), join(root, "escape.txt"));
  await writeFile(join(folder, "model.onnx"), modelBytes);
  // The server only reads these fields of the model.
  const model = { path: join(folder, "model.onnx"), displayPath: "model.onnx", metadata: { name: "fake" }, trained: false, origin: "explicit" } as unknown as SampleModel;
  server = await StartSampleServerAsync({ port: 0, root, model });
});

afterAll(async () => {
  await server?.closeAsync();
  await rm(folder, { recursive: true, force: true });
});

describe("sample server", () => {
  it("listens on 127.0.0.1 and serves the page with the cross-origin isolation headers", async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const res = await RawRequestAsync(server, "/");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["cross-origin-opener-policy"]).toBe("same-origin");
    expect(res.headers["cross-origin-embedder-policy"]).toBe("require-corp");
    expect(res.headers["cross-origin-resource-policy"]).toBe("same-origin");
    expect(res.body.toString()).toContain("<title>x</title>");
  });

  it("sends the MIME types browsers require for modules and WebAssembly", async () => {
    expect((await RawRequestAsync(server, "/main.js")).headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect((await RawRequestAsync(server, "/ort/a.mjs")).headers["content-type"]).toBe("text/javascript; charset=utf-8");
    const wasm = await RawRequestAsync(server, "/ort/a.wasm?v=1");
    expect(wasm.headers["content-type"]).toBe("application/wasm");
    expect(wasm.headers["cross-origin-embedder-policy"]).toBe("require-corp");
  });

  it("serves the model and says which one it is", async () => {
    const model = await RawRequestAsync(server, "/model.onnx");
    expect(model.status).toBe(200);
    expect(model.body.equals(modelBytes)).toBe(true);
    const config = JSON.parse((await RawRequestAsync(server, "/sample-config.json")).body.toString());
    expect(config).toEqual({ modelUrl: "model.onnx", modelName: "fake", modelPath: "model.onnx", trained: false, origin: "explicit" });
  });

  it("never serves anything outside its folder", async () => {
    for (const path of ["/../secret.txt", "/ort/../../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/..%5csecret.txt", "/%00", "/%E0%A4%A"]) {
      const res = await RawRequestAsync(server, path);
      expect([400, 404], path).toContain(res.status);
      expect(res.body.toString(), path).not.toContain("outside the root");
    }
    // A symlink inside the folder pointing out of it is not followed out.
    expect((await RawRequestAsync(server, "/escape.txt")).status).toBe(404);
    expect((await RawRequestAsync(server, "/missing.js")).status).toBe(404);
    expect((await RawRequestAsync(server, "/ort")).status).toBe(404);
  });

  it("answers GET and HEAD only", async () => {
    const head = await RawRequestAsync(server, "/main.js", "HEAD");
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    const post = await RawRequestAsync(server, "/", "POST");
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("refuses a foreign Host (a page on a rebinding domain) and accepts the loopback names with the served port", async () => {
    for (const path of ["/", "/model.onnx", "/sample-config.json"]) {
      const res = await RawRequestAsync(server, path, "GET", { Host: `attacker.example:${server.port}` });
      expect(res.status, path).toBe(403);
      expect(res.body.toString(), path).toMatch(/Host "attacker\.example:\d+" is not this server/);
    }
    expect((await RawRequestAsync(server, "/", "GET", { Host: `127.0.0.1:${server.port + 1}` })).status).toBe(403);
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`]) {
      expect((await RawRequestAsync(server, "/", "GET", { Host: host })).status, host).toBe(200);
    }
  });

  it("takes the port from --port, --port=, or PORT, and the model from --model", () => {
    expect(ParseServerArgs([], {})).toEqual({ port: 8080 });
    expect(ParseServerArgs([], { PORT: "9001" })).toEqual({ port: 9001 });
    expect(ParseServerArgs(["--port", "0"], { PORT: "9001" })).toEqual({ port: 0 });
    expect(ParseServerArgs(["--port=1234", "--model=m.onnx"], {})).toEqual({ port: 1234, modelPath: "m.onnx" });
    expect(ParseServerArgs(["--model", "a.onnx"], {})).toEqual({ port: 8080, modelPath: "a.onnx" });
    expect(() => ParseServerArgs(["--port", "http"], {})).toThrow(/0\.\.65535/);
    expect(() => ParseServerArgs(["--port", "70000"], {})).toThrow(/0\.\.65535/);
    expect(() => ParseServerArgs(["--port"], {})).toThrow(/expected a value/);
    expect(() => ParseServerArgs(["--verbose"], {})).toThrow(/unknown argument/);
  });
});
