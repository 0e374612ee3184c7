/**
 * The seed editor's server refuses requests that do not come from its own page, over real HTTP: a foreign `Host`
 * (DNS rebinding; the curl that replaced package.json), a foreign `Origin` or cross-site `Sec-Fetch-Site`, a
 * missing or wrong launch token, a body that is not JSON, too large (413) or sent with a wrong method (405), and a
 * save over a project file that is not a manifest. Each refusal leaves the files as they were.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManifestFormatName, Sha256HexAsync, type FaceManifest } from "@npc-faces/runtime";
import { TinyModelAsync } from "../../../runtime/test/testModels.js";
import { MaxManifestBytes, StartEditorServerAsync, type EditorServer } from "../../src/editor/editorServer.js";
import { EditorTokenHeader, EditorTokenMetaName } from "../../src/editor/page/editorApi.js";
import { RawRequestAsync, StatusBeforeBodyAsync, type RawResponse } from "../web/rawHttp.js";

const PackageJson = `${JSON.stringify({ name: "my-game", private: true, scripts: { start: "node game.js" } }, null, 2)}\n`;

let base: string;
let root: string;
let server: EditorServer;
let manifest: FaceManifest;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "npc-faces-editor-guard-"));
  root = join(base, "project");
  const pageDir = join(base, "page");
  await mkdir(root);
  await mkdir(pageDir);
  await writeFile(join(pageDir, "index.html"), "<!doctype html><html><head><title>editor</title></head><body></body></html>");
  await writeFile(join(root, "package.json"), PackageJson);
  const model = await TinyModelAsync();
  const modelPath = join(base, "tiny.onnx");
  await writeFile(modelPath, model);
  manifest = { format: ManifestFormatName, formatVersion: 1, model: { sha256: await Sha256HexAsync(model), name: "tiny-test" }, npcs: [{ id: "guard", name: "Guard", seed: 7 }] } as FaceManifest;
  server = await StartEditorServerAsync({ root, manifestPath: "town.json", modelPath, pageDir, port: 0 });
});

afterAll(async () => {
  await server?.closeAsync();
  if (base) await rm(base, { recursive: true, force: true });
});

/** A save as the editor page sends it; `headers` override or add (undefined removes one). */
function SaveAsync(path: string, headers: Record<string, string | undefined> = {}, body: string = JSON.stringify(manifest)): Promise<RawResponse> {
  const all: Record<string, string | undefined> = { "Content-Type": "application/json", [EditorTokenHeader]: server.token, Origin: `http://127.0.0.1:${server.port}`, "Sec-Fetch-Site": "same-origin", ...headers };
  const sent = Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return RawRequestAsync(server.port, { method: "PUT", path: `/api/manifest?path=${encodeURIComponent(path)}`, headers: sent, body });
}

function Refused(response: RawResponse, status: number, pattern: RegExp): void {
  expect(response.status, response.body.toString()).toBe(status);
  expect(response.json?.problems?.join("\n")).toMatch(pattern);
}

describe("editor server: Host (DNS rebinding)", () => {
  it("refuses the issue's exploit: a PUT with a foreign Host does not replace package.json", async () => {
    // curl -X PUT -H "Host: attacker.example:PORT" -H "Content-Type: text/plain" --data '<manifest>' .../api/manifest?path=package.json
    const response = await RawRequestAsync(server.port, {
      method: "PUT",
      path: "/api/manifest?path=package.json",
      headers: { Host: `attacker.example:${server.port}`, "Content-Type": "text/plain" },
      body: JSON.stringify(manifest),
    });
    Refused(response, 403, /Host "attacker\.example:\d+" is not this server/);
    expect(await readFile(join(root, "package.json"), "utf8")).toBe(PackageJson);
  });

  it("refuses a foreign Host even with the token, and for reads (the page, the API, the model)", async () => {
    Refused(await SaveAsync("town.json", { Host: `attacker.example:${server.port}` }), 403, /DNS rebinding/);
    for (const path of ["/", "/index.html", "/api/model-info", "/api/manifest", "/model.onnx"]) {
      Refused(await RawRequestAsync(server.port, { path, headers: { Host: `attacker.example:${server.port}` } }), 403, /is not this server/);
    }
  });

  it("accepts the loopback names with the served port only", async () => {
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `LOCALHOST:${server.port}`, `[::1]:${server.port}`]) {
      expect((await RawRequestAsync(server.port, { path: "/api/model-info", headers: { Host: host } })).status, host).toBe(200);
    }
    const other = server.port === 65535 ? 1 : server.port + 1;
    for (const host of [`127.0.0.1:${other}`, "localhost", `localhost.:${server.port}`, `127.0.0.1.attacker.example:${server.port}`, `localhost:${server.port}@attacker.example`, `[::2]:${server.port}`]) {
      expect((await RawRequestAsync(server.port, { path: "/api/model-info", headers: { Host: host } })).status, host).toBe(403);
    }
  });
});

describe("editor server: saves come from the editor's own page", () => {
  it("refuses a foreign Origin, an opaque one, and a cross-site or same-site Sec-Fetch-Site", async () => {
    for (const origin of ["http://attacker.example", `http://attacker.example:${server.port}`, "null", `https://127.0.0.1:${server.port}`, `http://localhost:${server.port + 1}`]) {
      Refused(await SaveAsync("refused.json", { Origin: origin }), 403, /Origin .* is foreign/);
    }
    for (const site of ["cross-site", "same-site"]) Refused(await SaveAsync("refused.json", { "Sec-Fetch-Site": site }), 403, /Sec-Fetch-Site/);
    await expect(readFile(join(root, "refused.json"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses a save without this launch's token or with a wrong one", async () => {
    Refused(await SaveAsync("refused.json", { [EditorTokenHeader]: undefined }), 403, /missing or wrong X-Npc-Faces-Editor-Token/);
    Refused(await SaveAsync("refused.json", { [EditorTokenHeader]: "A".repeat(server.token.length) }), 403, /missing or wrong/);
    Refused(await SaveAsync("refused.json", { [EditorTokenHeader]: "" }), 403, /missing or wrong/);
    await expect(readFile(join(root, "refused.json"))).rejects.toThrow(/ENOENT/);
  });

  it("puts the token into the served page, and a save with it from the page's origin succeeds", async () => {
    const page = (await RawRequestAsync(server.port, { path: "/" })).body.toString();
    const token = new RegExp(`<meta name="${EditorTokenMetaName}" content="([^"]+)" />`).exec(page)?.[1];
    expect(token).toBe(server.token);
    expect(page).toMatch(/^<!doctype html><html><head><meta name=/);
    const saved = await SaveAsync("town.json", { [EditorTokenHeader]: token, Origin: `http://localhost:${server.port}` });
    expect(saved.status, saved.body.toString()).toBe(200);
    expect(JSON.parse(await readFile(join(root, "town.json"), "utf8"))).toEqual(manifest);
  });

  it("refuses a body that is not sent as JSON (415): a cross-site form or text/plain request cannot send JSON", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      Refused(await SaveAsync("form.json", { "Content-Type": type }), 415, /application\/json/);
    }
    Refused(await SaveAsync("form.json", { "Content-Type": undefined }), 415, /application\/json/);
    await expect(readFile(join(root, "form.json"))).rejects.toThrow(/ENOENT/);
  });
});

describe("editor server: only manifests are written", () => {
  it("never replaces a file that is not a manifest (package.json, other JSON, unparsable JSON)", async () => {
    await writeFile(join(root, "tsconfig.json"), '{ "compilerOptions": {} }');
    await writeFile(join(root, "broken.json"), "{ not json");
    for (const file of ["package.json", "tsconfig.json", "broken.json"]) {
      const before = await readFile(join(root, file), "utf8");
      Refused(await SaveAsync(file), 403, /exists and is not an npc-faces manifest/);
      expect(await readFile(join(root, file), "utf8"), file).toBe(before);
    }
  });

  it("writes a new .json file and replaces a file that already is a manifest", async () => {
    expect((await SaveAsync("levels-new.json")).status).toBe(200);
    const second = { ...manifest, npcs: [...manifest.npcs, { id: "smith", name: "Smith", seed: 8 }] };
    expect((await SaveAsync("levels-new.json", {}, JSON.stringify(second))).status).toBe(200);
    expect(JSON.parse(await readFile(join(root, "levels-new.json"), "utf8"))).toEqual(second);
  });
});

describe("editor server: body size and methods", () => {
  it("answers 413 to a body announced larger than the limit, before it is sent", async () => {
    const status = await StatusBeforeBodyAsync(server.port, {
      path: "/api/manifest?path=big.json",
      headers: { "Content-Type": "application/json", [EditorTokenHeader]: server.token },
      contentLength: MaxManifestBytes + 1,
    });
    expect(status).toBe(413);
  });

  it("answers 413 to a chunked body that grows past the limit, and writes nothing", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const chunks = Array.from({ length: Math.ceil((MaxManifestBytes + 1) / chunk.length) + 1 }, () => chunk);
    const response = await RawRequestAsync(server.port, {
      method: "PUT",
      path: "/api/manifest?path=big.json",
      headers: { "Content-Type": "application/json", [EditorTokenHeader]: server.token, "Transfer-Encoding": "chunked" },
      body: chunks,
    });
    Refused(response, 413, new RegExp(`larger than ${MaxManifestBytes} bytes`));
    await expect(readFile(join(root, "big.json"))).rejects.toThrow(/ENOENT/);
  });

  it("answers 405 with Allow to methods a route does not take", async () => {
    for (const [method, path, allow] of [["DELETE", "/api/manifest", "GET, HEAD, PUT"], ["POST", "/api/manifest", "GET, HEAD, PUT"], ["PUT", "/", "GET, HEAD"], ["POST", "/api/model-info", "GET, HEAD"], ["PATCH", "/model.onnx", "GET, HEAD"]] as const) {
      const response = await RawRequestAsync(server.port, { method, path, headers: { [EditorTokenHeader]: server.token, "Content-Type": "application/json" }, body: "{}" });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.allow, `${method} ${path}`).toBe(allow);
    }
  });
});
