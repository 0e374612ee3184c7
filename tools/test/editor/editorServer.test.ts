/**
 * The seed editor's server: loopback only, manifest paths confined to the project folder, malformed manifests
 * refused with every problem, atomic saves (an interrupted write leaves the previous file), the model-mismatch
 * warning, isolation headers.
 */
import { mkdtemp, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ManifestFormatName, Sha256HexAsync, type FaceManifest } from "@npc-faces/runtime";
import { TinyModelAsync } from "../../../runtime/test/testModels.js";
import { CheckEditorHost, EditorRefusal, ResolveProjectPathAsync, StartEditorServerAsync, type EditorServer } from "../../src/editor/editorServer.js";
import { EditorTokenHeader } from "../../src/editor/page/editorApi.js";

// Lets a test break the atomic writer's data write half-way (as a crash or a full disk would).
const interrupt = vi.hoisted(() => ({ on: false }));
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  const open: typeof actual.open = async (...args: Parameters<typeof actual.open>) => {
    const handle = await actual.open(...args);
    if (!interrupt.on || !String(args[0]).endsWith(".tmp")) return handle;
    return new Proxy(handle, {
      get(target, key) {
        if (key === "writeFile") {
          return async (data: Uint8Array) => {
            await target.writeFile(data.subarray(0, data.length >> 1));
            throw Object.assign(new Error("EIO: i/o error, write (simulated)"), { code: "EIO" });
          };
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  return { ...actual, open, default: { ...actual, open } };
});

let root: string;
let outside: string;
let modelPath: string;
let sha256: string;
let server: EditorServer;

beforeAll(async () => {
  const base = await mkdtemp(join(tmpdir(), "npc-faces-editor-"));
  root = join(base, "project");
  outside = join(base, "elsewhere");
  await mkdir(join(root, "levels"), { recursive: true });
  await mkdir(outside);
  const pageDir = join(base, "page");
  await mkdir(pageDir);
  await writeFile(join(pageDir, "index.html"), "<!doctype html><title>editor</title>");
  const model = await TinyModelAsync();
  modelPath = join(base, "tiny.onnx");
  await writeFile(modelPath, model);
  sha256 = await Sha256HexAsync(model);
  server = await StartEditorServerAsync({ root, manifestPath: join(root, "levels", "town.json"), modelPath, pageDir, port: 0 });
});

afterAll(async () => {
  await server?.closeAsync();
  if (root) await rm(join(root, ".."), { recursive: true, force: true });
});

function Manifest(npcs: unknown[], sha = sha256): FaceManifest {
  return { format: ManifestFormatName, formatVersion: 1, model: { sha256: sha, name: "tiny-test" }, npcs } as FaceManifest;
}

async function PutAsync(body: unknown, query = ""): Promise<{ status: number; json: { error?: string; problems?: string[]; warnings?: string[]; path?: string } }> {
  const response = await fetch(`${server.url}api/manifest${query}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json", [EditorTokenHeader]: server.token },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as never };
}

describe("editor server: loopback only", () => {
  it("accepts loopback hosts and refuses every other address with a clear error", async () => {
    for (const host of ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"]) expect(() => CheckEditorHost(host), host).not.toThrow();
    for (const host of ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com", ""]) {
      expect(() => CheckEditorHost(host), host).toThrow(/loopback interface only/);
    }
    await expect(StartEditorServerAsync({ root, manifestPath: "a.json", modelPath, pageDir: root, port: 0, host: "0.0.0.0" })).rejects.toThrow(EditorRefusal);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });
});

describe("editor server: paths stay inside the project folder", () => {
  it("resolves relative and absolute paths inside, refuses ../, absolute paths outside, symlinks out and non-.json names", async () => {
    expect(await ResolveProjectPathAsync(root, "levels/a.json")).toBe(join(root, "levels", "a.json"));
    expect(await ResolveProjectPathAsync(root, join(root, "b.json"))).toBe(join(root, "b.json"));
    await symlink(outside, join(root, "link"));
    for (const bad of ["../x.json", "levels/../../x.json", join(outside, "x.json"), "/etc/passwd.json", "link/x.json", "levels/notes.txt", "."]) {
      await expect(ResolveProjectPathAsync(root, bad), bad).rejects.toThrow(EditorRefusal);
    }
    await expect(StartEditorServerAsync({ root, manifestPath: join(outside, "m.json"), modelPath, pageDir: root, port: 0 })).rejects.toThrow(/outside the project folder/);
  });

  it("answers 403 to API paths outside and writes nothing there", async () => {
    for (const query of ["?path=../x.json", `?path=${encodeURIComponent(join(outside, "x.json"))}`, "?path=link/x.json"]) {
      const get = await fetch(`${server.url}api/manifest${query}`);
      expect(get.status, query).toBe(403);
      const put = await PutAsync(Manifest([]), query);
      expect(put.status, query).toBe(403);
      expect(put.json.problems?.[0]).toMatch(/outside the project folder/);
    }
    expect(await readdir(outside)).toEqual([]);
    // Static files: no way out of the page folder either.
    expect((await fetch(`${server.url}..%2F..%2Fetc%2Fpasswd`)).status).toBe(400);
  });
});

describe("editor server: manifests", () => {
  it("serves a new empty manifest for the model, then saves and reads back a valid one (with isolation headers)", async () => {
    const first = await fetch(`${server.url}api/manifest`);
    expect(first.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    expect(first.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    const empty = (await first.json()) as { exists: boolean; manifest: FaceManifest };
    expect(empty.exists).toBe(false);
    expect(empty.manifest).toEqual(Manifest([]));
    const manifest = Manifest([{ id: "guard_01", name: "Gate guard", seed: 42, psi: 0.5, controls: { direction_1: 1 } }]);
    const saved = await PutAsync(manifest);
    expect(saved).toEqual({ status: 200, json: { path: join("levels", "town.json"), bytes: expect.any(Number), warnings: [] } });
    expect(JSON.parse(await readFile(server.manifestPath, "utf8"))).toEqual(manifest);
    const back = (await (await fetch(`${server.url}api/manifest`)).json()) as { exists: boolean; manifest: FaceManifest; check: unknown };
    expect(back).toMatchObject({ exists: true, manifest, check: { errors: [], warnings: [] } });
    const info = (await (await fetch(`${server.url}api/model-info`)).json()) as { sha256: string; manifestPath: string };
    expect(info).toMatchObject({ sha256, manifestPath: join("levels", "town.json") });
    const model = await fetch(`${server.url}model.onnx`);
    expect(model.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    expect(new Uint8Array(await model.arrayBuffer())).toEqual(new Uint8Array(await readFile(modelPath)));
  });

  it("rejects a malformed manifest with 400 and every problem with its path; the file is untouched", async () => {
    const before = await readFile(server.manifestPath);
    const bad = { ...Manifest([{ id: "a", name: "A", seed: -1 }, { id: "a", name: "B", seed: 1, sede: 2 }]), formatVersion: 1 };
    const response = await PutAsync(bad);
    expect(response.status).toBe(400);
    expect(response.json.error).toBe("malformed manifest");
    expect(response.json.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^npcs\[0\]\.seed: expected an integer/), expect.stringMatching(/^npcs\[1\]: .*sede/)]));
    expect(response.json.problems!.length).toBeGreaterThanOrEqual(3);
    expect((await PutAsync("{ not json")).json.problems?.[0]).toMatch(/not valid JSON/);
    const unknownControl = await PutAsync(Manifest([{ id: "x", name: "X", seed: 1, controls: { smile: 1 } }]));
    expect(unknownControl.status).toBe(400);
    expect(unknownControl.json.problems?.[0]).toMatch(/^npcs\[0\]\.controls\.smile: unknown control/);
    expect(await readFile(server.manifestPath)).toEqual(before);
  });

  it("reports a malformed file on disk (422, every problem) and warns about a manifest saved for another model", async () => {
    await writeFile(join(root, "broken.json"), JSON.stringify({ format: ManifestFormatName, formatVersion: 1, model: { sha256: "nope" }, npcs: [{ id: ".x", seed: 1.5 }] }));
    const broken = await fetch(`${server.url}api/manifest?path=broken.json`);
    expect(broken.status).toBe(422);
    const body = (await broken.json()) as { manifest: unknown; problems: string[] };
    expect(body.manifest).toBeNull();
    expect(body.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^model\.sha256:/), expect.stringMatching(/^npcs\[0\]\.id:/), expect.stringMatching(/^npcs\[0\]\.name:/), expect.stringMatching(/^npcs\[0\]\.seed:/)]));
    await writeFile(join(root, "other.json"), JSON.stringify(Manifest([{ id: "a", name: "A", seed: 1 }], "0".repeat(64))));
    const other = (await (await fetch(`${server.url}api/manifest?path=other.json`)).json()) as { manifest: FaceManifest; check: { warnings: string[] } };
    expect(other.manifest.npcs).toHaveLength(1);
    expect(other.check.warnings[0]).toMatch(/^model\.sha256: the manifest was saved for model 000000000000… .*the same seeds give different faces/);
  });

  it("a save interrupted mid-write answers 500 and leaves the previous manifest intact, with no temporary file", async () => {
    const before = await readFile(server.manifestPath);
    interrupt.on = true;
    let response;
    try {
      response = await PutAsync(Manifest([{ id: "new", name: "New", seed: 7 }]));
    } finally {
      interrupt.on = false;
    }
    expect(response.status).toBe(500);
    expect(response.json.problems?.[0]).toMatch(/EIO.*the previous file is unchanged/);
    expect(await readFile(server.manifestPath)).toEqual(before);
    expect((await readdir(join(root, "levels"))).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});
