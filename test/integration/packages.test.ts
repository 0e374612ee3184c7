/**
 * The publishable packages as `npm pack` would ship them (issue 19): each has its LICENSE, README and package.json,
 * compiled JavaScript with its type declarations, no sources, tests or source maps, and stays under 10 MiB (the
 * default model's package excepted). Runs `npm pack --dry-run --json` without the `prepack` build (the test run
 * builds first); prints every tarball's size. The published editor page is checked on a fresh build of it.
 */
import { execFile } from "node:child_process";
import { readdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildPublishedEditorPageAsync } from "@npc-faces/tools";

const Root = fileURLToPath(new URL("../..", import.meta.url));
const Workspaces = ["models", "runtime", "plugin", "trainer", "tools"];
const MiB = 1 << 20;

interface PackResult {
  readonly name: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

let packs: Map<string, PackResult>;

beforeAll(async () => {
  const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts", ...Workspaces.flatMap((w) => ["-w", w])], { cwd: Root, maxBuffer: 64 << 20 });
  // npm may print notices before the JSON array.
  const results = JSON.parse(stdout.slice(stdout.indexOf("["))) as PackResult[];
  packs = new Map(results.map((r) => [r.name, r]));
  for (const r of results) process.stdout.write(`npm pack ${r.name}: ${(r.size / MiB).toFixed(2)} MiB packed, ${(r.unpackedSize / MiB).toFixed(2)} MiB unpacked, ${r.files.length} files\n`);
}, 120_000);

function Files(name: string): string[] {
  const pack = packs.get(name);
  if (!pack) throw new Error(`npm pack did not report ${name}`);
  return pack.files.map((f) => f.path);
}

describe("npm pack of the publishable packages", () => {
  it("packs all five", () => {
    expect([...packs.keys()].sort()).toEqual(["@npc-faces/babylon", "@npc-faces/default-model", "@npc-faces/runtime", "@npc-faces/tools", "@npc-faces/trainer"]);
  });

  it("each has LICENSE, README.md and package.json, and no sources, tests, source maps or build info", () => {
    for (const name of packs.keys()) {
      const files = Files(name);
      expect(files, name).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json"]));
      const stray = files.filter((f) => /\.map$|\.tsbuildinfo$|^src\/|^test\/|^scripts\/|\.test\.|(^|\/)tsconfig\.json$/.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts")));
      expect(stray, name).toEqual([]);
    }
  });

  it("each ships what its exports and bin name", () => {
    expect(Files("@npc-faces/default-model")).toEqual(expect.arrayContaining(["default.onnx", "index.js", "index.d.ts"]));
    expect(Files("@npc-faces/runtime")).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts", "dist/node/index.js", "dist/web/index.js", "schema/face-manifest.schema.json"]));
    expect(Files("@npc-faces/babylon")).toEqual(expect.arrayContaining(["dist/index.js", "dist/pure.js", "dist/defaultModel.js", "dist/worker/faceWorker.js", "dist/gltf.js", "dist/gltfExport.js"]));
    expect(Files("@npc-faces/trainer")).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts"]));
    expect(Files("@npc-faces/tools")).toEqual(expect.arrayContaining(["bin/npc-faces.js", "dist/cli/main.js", "dist/index.js", "dist/editor/page/editorApi.js"]));
  });

  it("no tarball is over 10 MiB but the default model's", () => {
    for (const [name, pack] of packs) if (name !== "@npc-faces/default-model") expect(pack.size, name).toBeLessThan(10 * MiB);
  });
});

describe("the published editor page", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "npc-faces-page-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("has no source maps, no build info, no model copy, and one onnxruntime-web variant", async () => {
    await BuildPublishedEditorPageAsync(dir);
    expect((await readdir(dir)).sort()).toEqual(["editor.js", "faceWorker.js", "index.html", "ort"]);
    expect((await readdir(join(dir, "ort"))).sort()).toEqual(["ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]);
  }, 180_000);
});
