/**
 * The packages as a user installs them (issue 19): `npm pack` of every publishable workspace (with its `prepack`
 * build), then `npm install` of the tarballs into a fresh project under the system's temporary folder, which has no
 * `.npmrc`. The light install (tools + runtime + default model) must stay under 350 MB of node_modules and run
 * `info`, `bake`, `sheet`, `export --stamp` and serve the editor page; the plugin must add at most 20 MB to a game
 * that has `@babylonjs/core` and `onnxruntime-web`.
 *
 * Installs from the npm cache only (`--offline`: run `npm ci` or `npm install` here first), never the network. Opt in
 * with NPC_FACES_INSTALL_TEST=1: `npm pack` runs the tools' prepack, which rebuilds tools/dist/editor-page in place,
 * and would race with the editor tests the suite runs beside it. Prints every size.
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const Enabled = process.env.NPC_FACES_INSTALL_TEST === "1";
const Root = fileURLToPath(new URL("../..", import.meta.url));
const Workspaces = ["models", "runtime", "plugin", "trainer", "tools"];
const MB = 1e6;
const Run = promisify(execFile);

let dir: string;
let tarballs: Record<string, string>;

/** Bytes of every file under `path` (not counting directory entries; links counted once, not followed). */
async function TreeBytesAsync(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += await TreeBytesAsync(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

async function NewProjectAsync(name: string): Promise<string> {
  const project = join(dir, name);
  await mkdir(project);
  await writeFile(join(project, "package.json"), JSON.stringify({ name, version: "1.0.0", private: true, type: "module" }));
  return project;
}

async function InstallAsync(project: string, specs: readonly string[]): Promise<number> {
  await Run("npm", ["install", "--offline", "--no-audit", "--no-fund", ...specs], { cwd: project, maxBuffer: 16 << 20 });
  return TreeBytesAsync(join(project, "node_modules"));
}

describe.skipIf(!Enabled)("installing the packed packages", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "npc-faces-install-"));
    const packs = join(dir, "packs");
    await mkdir(packs);
    const { stdout } = await Run("npm", ["pack", "--json", "--pack-destination", packs, ...Workspaces.flatMap((w) => ["-w", w])], { cwd: Root, maxBuffer: 64 << 20 });
    const results = JSON.parse(stdout.slice(stdout.indexOf("["))) as { name: string; filename: string; size: number; unpackedSize: number }[];
    tarballs = Object.fromEntries(results.map((r) => [r.name, join(packs, r.filename)]));
    for (const r of results) process.stdout.write(`tarball ${r.filename}: ${(r.size / MB).toFixed(2)} MB (${(r.unpackedSize / MB).toFixed(2)} MB unpacked)\n`);
  }, 300_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the light CLI install is under 350 MB and runs info, bake, sheet, export --stamp and the editor", async () => {
    const project = await NewProjectAsync("light");
    const bytes = await InstallAsync(project, [tarballs["@npc-faces/default-model"], tarballs["@npc-faces/runtime"], tarballs["@npc-faces/tools"]]);
    process.stdout.write(`light install (tools + runtime + default model): node_modules ${(bytes / MB).toFixed(0)} MB\n`);
    expect(bytes).toBeLessThan(350 * MB);
    for (const absent of ["@npc-faces/trainer", "@tensorflow", "nsfwjs", "onnxruntime-node", "@dicebear", "facesjs", "esbuild", "@babylonjs"]) {
      expect(await stat(join(project, "node_modules", absent)).catch(() => null), absent).toBeNull();
    }
    const cli = (args: string[]) => Run("npx", ["npc-faces", ...args], { cwd: project, maxBuffer: 16 << 20 });
    expect((await cli(["info"])).stdout).toMatch(/^name +npc64-default$/m);
    expect((await cli(["bake", "--seeds", "1-2", "--out", "faces", "--no-progress"])).stdout).toMatch(/^baked 2 faces/);
    expect((await cli(["sheet", "seeds", "--seeds", "0-3", "--out", "sheet.png"])).stdout).toMatch(/^sheet seeds/);
    expect((await cli(["export", "--stamp", "node_modules/@npc-faces/default-model/default.onnx", "--out", "stamped.onnx"])).stdout).toMatch(/^stamped /);
    await expect(cli(["dataset", "--source", "facesjs", "--count", "2", "--out", "data"])).rejects.toMatchObject({ stderr: expect.stringMatching(/needs the package facesjs, which is not installed: npm install facesjs@5\.0\.3/) });

    // The editor serves its prebuilt page (index, bundles, one onnxruntime-web binary) from the installed package.
    const editor = spawn("npx", ["npc-faces", "editor", "--port", "0"], { cwd: project, stdio: ["ignore", "pipe", "pipe"], detached: true });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        editor.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
          if (match) resolve(match[0]);
        });
        editor.once("exit", (code) => reject(new Error(`the editor exited (${code})`)));
      });
      for (const path of ["", "editor.js", "faceWorker.js", "ort/ort-wasm-simd-threaded.mjs", "ort/ort-wasm-simd-threaded.wasm"]) {
        expect((await fetch(url + path)).status, path).toBe(200);
      }
    } finally {
      process.kill(-editor.pid!, "SIGTERM");
    }
  }, 300_000);

  it("the plugin adds at most 20 MB to a game with @babylonjs/core and onnxruntime-web", async () => {
    const peers = ["@babylonjs/core@9.35.0", "onnxruntime-web@1.30.0"];
    const base = await InstallAsync(await NewProjectAsync("game-base"), peers);
    const game = await InstallAsync(await NewProjectAsync("game"), [...peers, tarballs["@npc-faces/default-model"], tarballs["@npc-faces/runtime"], tarballs["@npc-faces/babylon"]]);
    process.stdout.write(`plugin install: node_modules ${(game / MB).toFixed(0)} MB, ${((game - base) / MB).toFixed(1)} MB more than @babylonjs/core + onnxruntime-web alone\n`);
    expect(game - base).toBeLessThan(20 * MB);
  }, 300_000);
});
