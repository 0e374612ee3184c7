/**
 * The packages as a user installs them (issue 19): every publishable workspace packed as `npm publish` would ship it,
 * then installed from the tarballs into fresh projects under the system's temporary folder (no `.npmrc` there), with
 * no network: `npm ci --offline` from the npm cache that the repository's own `npm ci` filled (see
 * test/e2e/offlineProject.ts for why a lockfile). Prints every tarball's size; none is over 10 MiB but the default
 * model's.
 *
 * Packing never touches this checkout: the workspaces whose `prepack` is only `tsc -b` (which `npm test` ran) pack in
 * place with `--ignore-scripts`; the tools package packs from a copy, where its prepack script builds the published
 * editor page (into the copy's dist/, not tools/dist/editor-page, which the editor tests serve meanwhile).
 *
 * - Light CLI install (tools + runtime + default model): under 350 MB of node_modules; `npx npc-faces` runs `info`,
 *   `bake`, `sheet`, `export --stamp`; `editor` serves its prebuilt page, which in headless Chromium draws its grid of
 *   faces: seed 1 there is `bake`'s face-1.png bit for bit.
 * - A game: `@babylonjs/core`, `onnxruntime-web`, the plugin and esbuild. The plugin adds at most 20 MB. A minimal game
 *   (one plane with a face material) built with esbuild as plugin/README.md tells (page bundle, worker bundle,
 *   onnxruntime-web's binaries, the default model), served with COOP/COEP from 127.0.0.1, shows in Chromium (WebGL2)
 *   the canonical face of its seed, upright.
 *
 * Needs `npm run build` first (the packs ship dist/) and Chromium (`apt-get install -y chromium`).
 */
import { execFile, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaceGenerator } from "@npc-faces/runtime";
import { CreateWebBackend } from "@npc-faces/runtime/web";
import { CloseServerAsync, DecodePngRgba, DecodeUrlPath, ListenAsync, ResolveInsideAsync, SendFileAsync, type ShownFace } from "@npc-faces/tools";
import { LaunchChromiumAsync, OpenWatchedPageAsync, type TestBrowser } from "../e2e/browser.js";
import { ComparePixels } from "../e2e/crowdPage.js";
import { OpenEditorPageAsync, type EditorWindow } from "../e2e/editorPage.js";
import { InstallOfflineProjectAsync, OfflineProject, ReadRepoLockAsync, type OfflineProjectFiles, type PackedWorkspace, type RepoLock } from "../e2e/offlineProject.js";

const Root = fileURLToPath(new URL("../..", import.meta.url));
const MB = 1e6;
const MiB = 1 << 20;
const Run = promisify(execFile);
/** The game's peers and its bundler, at the repository lock's versions. */
const GamePackages = ["@babylonjs/core", "onnxruntime-web", "esbuild"];
/** The game's face and canvas (CSS pixels: 4 per face pixel). */
const GameSeed = 7;
const CanvasSize = 256;

interface PackResult {
  readonly name: string;
  readonly filename: string;
  readonly integrity: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly { readonly path: string }[];
}

let dir: string;
let packs: Map<string, PackResult>;
let repo: { lock: RepoLock; registryUrl: string };
let browser: TestBrowser;

/** `npm pack --ignore-scripts` in `cwd` (extra arguments: `-w` workspaces) into the test's packs/ folder. */
async function PackAsync(cwd: string, args: readonly string[]): Promise<PackResult[]> {
  const { stdout } = await Run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", join(dir, "packs"), ...args], { cwd, maxBuffer: 64 << 20 });
  // npm may print notices before the JSON array.
  return JSON.parse(stdout.slice(stdout.indexOf("["))) as PackResult[];
}

/** The tools package as published: a copy of tools/ without its page build, the prepack script run there, packed. */
async function PackToolsAsync(): Promise<PackResult[]> {
  const tools = join(Root, "tools");
  const copy = join(dir, "tools-package");
  const excluded = new Set([join(tools, "dist", "editor-page"), join(tools, "node_modules")]);
  await cp(tools, copy, { recursive: true, filter: (source) => !excluded.has(source) });
  // The checkout's script (its compiled code, which finds the page sources in this repository) in the copy's folder.
  await Run(process.execPath, [join(tools, "scripts", "prepack.mjs")], { cwd: copy });
  return PackAsync(copy, []);
}

/** A fresh project folder with `packed` (package names) and `registry` packages installed offline. */
async function InstallAsync(name: string, packed: readonly string[], registry: readonly string[] = []): Promise<{ project: string; files: OfflineProjectFiles }> {
  const project = join(dir, name);
  await mkdir(project);
  const tarballs = new Map<string, PackedWorkspace>(
    packed.map((p) => {
      const pack = packs.get(p)!;
      return [p, { tarball: relative(project, join(dir, "packs", pack.filename)), integrity: pack.integrity }];
    }),
  );
  const files = OfflineProject(name, repo.lock, repo.registryUrl, tarballs, registry);
  await InstallOfflineProjectAsync(project, files);
  return { project, files };
}

/** Bytes of every file under `path` but its child `skip` (not counting directory entries; links not followed). */
async function TreeBytesAsync(path: string, skip?: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.name === skip) continue;
    if (entry.isDirectory()) total += await TreeBytesAsync(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-install-"));
  await mkdir(join(dir, "packs"));
  let results: PackResult[][];
  [results, repo] = await Promise.all([
    Promise.all([PackAsync(Root, ["models", "runtime", "plugin", "trainer"].flatMap((w) => ["-w", w])), PackToolsAsync()]),
    ReadRepoLockAsync(Root),
  ]);
  // After packing, not beside it: a failed launch must not leave the packing still writing into `dir` while
  // afterAll removes it (ENOTEMPTY hid the launch error).
  browser = await LaunchChromiumAsync({ viewport: { width: 1280, height: 800 } });
  packs = new Map(results.flat().map((r) => [r.name, r]));
  for (const r of packs.values()) process.stdout.write(`tarball ${r.filename}: ${(r.size / MiB).toFixed(2)} MiB (${(r.unpackedSize / MiB).toFixed(2)} MiB unpacked)\n`);
}, 300_000);

afterAll(async () => {
  await browser?.closeAsync();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("installing the packed packages", () => {
  it("packs all five; no tarball is over 10 MiB but the default model's; tools carries the built editor page", () => {
    expect([...packs.keys()].sort()).toEqual(["@npc-faces/babylon", "@npc-faces/default-model", "@npc-faces/runtime", "@npc-faces/tools", "@npc-faces/trainer"]);
    for (const [name, pack] of packs) if (name !== "@npc-faces/default-model") expect(pack.size, name).toBeLessThan(10 * MiB);
    const page = packs.get("@npc-faces/tools")!.files.map((f) => f.path).filter((p) => p.startsWith("dist/editor-page/")).sort();
    expect(page).toEqual(["editor.js", "faceWorker.js", "index.html", "ort/ort-wasm-simd-threaded.mjs", "ort/ort-wasm-simd-threaded.wasm"].map((f) => `dist/editor-page/${f}`));
  });

  it("the light CLI install is under 350 MB and runs info, bake, sheet, export --stamp and the editor (faces in Chromium)", async () => {
    const { project } = await InstallAsync("light", ["@npc-faces/default-model", "@npc-faces/runtime", "@npc-faces/tools"]);
    const bytes = await TreeBytesAsync(join(project, "node_modules"));
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

    // The editor serves its prebuilt page from the installed package; in Chromium the page generates its grid.
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
      const page = await OpenEditorPageAsync(browser.context, url);
      try {
        const isolated = await page.page.evaluate(() => (globalThis as unknown as EditorWindow).npcFacesEditorTest.crossOriginIsolated);
        expect(isolated, "the editor must be cross-origin isolated (COOP/COEP)").toBe(true);
        const shown = await page.page.evaluate(() => (globalThis as unknown as EditorWindow).npcFacesEditorTest.gridFace(1));
        const baked = DecodePngRgba(await readFile(join(project, "faces", "face-1.png")));
        expect(shown && [shown.width, shown.height]).toEqual([baked.width, baked.height]);
        expect(ComparePixels(ShownPixels(shown!), baked.data).differingBytes, "the editor's face for seed 1 vs npc-faces bake's").toBe(0);
        expect(page.externalRequests).toEqual([]);
        expect(page.errors).toEqual([]);
      } finally {
        await page.closeAsync();
      }
    } finally {
      process.kill(-editor.pid!, "SIGTERM");
    }
  }, 300_000);

  it("the plugin adds at most 20 MB to a game, which esbuild builds as plugin/README.md says and which shows a face in Chromium", async () => {
    const { project: game, files } = await InstallAsync("game", ["@npc-faces/default-model", "@npc-faces/runtime", "@npc-faces/babylon"], GamePackages);
    // What the plugin adds: the installed packages that the same project without the tarballs would not have (both
    // lockfiles take the repository's layout, so a package sits at the same path in either).
    const without = OfflineProject("game", repo.lock, repo.registryUrl, new Map(), GamePackages).lockfile.packages;
    const added = Object.keys(files.lockfile.packages).filter((p) => p !== "" && !(p in without));
    const sizes = await Promise.all(
      added.map((p) =>
        TreeBytesAsync(join(game, p), "node_modules").catch((error: NodeJS.ErrnoException) => {
          // Packages of other platforms are in the lockfile but not installed.
          if (error.code === "ENOENT") return 0;
          throw error;
        }),
      ),
    );
    const addedBytes = sizes.reduce((a, b) => a + b, 0);
    const gameBytes = await TreeBytesAsync(join(game, "node_modules"));
    process.stdout.write(`plugin install: node_modules ${(gameBytes / MB).toFixed(0)} MB, of which ${(addedBytes / MB).toFixed(1)} MB come with the plugin (${added.map((p) => p.slice(p.lastIndexOf("node_modules/") + 13)).join(", ")}) and ${((gameBytes - addedBytes) / MB).toFixed(0)} MB with ${GamePackages.join(" + ")}\n`);
    expect(addedBytes).toBeLessThan(20 * MB);

    await WriteGameAsync(game);
    await Run(process.execPath, ["build.mjs"], { cwd: game, maxBuffer: 16 << 20 });
    const server = await ServeAsync(join(game, "dist"));
    const { page, externalRequests, errors, closeAsync } = await OpenWatchedPageAsync(browser.context, server.url);
    try {
      await page.goto(server.url, { waitUntil: "load", timeout: 60_000 });
      await page.waitForFunction("document.body.dataset.gameReady !== undefined || document.body.dataset.gameError !== undefined", null, { timeout: 180_000, polling: 200 });
      expect(await page.evaluate("document.body.dataset.gameError ?? null"), errors.join("\n")).toBeNull();
      const face = new Uint8Array(await page.evaluate("Array.from(window.game.plugin.face.data)"));
      const [width, height] = (await page.evaluate("[window.game.plugin.face.width, window.game.plugin.face.height]")) as [number, number];

      // The face is the canonical engine's for the seed (onnxruntime-web WASM, one thread, in this process).
      const model = join(game, "node_modules", "@npc-faces", "default-model", "default.onnx");
      const generator = await FaceGenerator.loadAsync(await readFile(model), { backend: CreateWebBackend({ numThreads: 1 }), source: model });
      try {
        expect(ComparePixels(face, (await generator.generateAsync([{ seed: GameSeed }]))[0].data).differingBytes, "the game's face vs onnxruntime-web in Node").toBe(0);
      } finally {
        await generator.disposeAsync();
      }

      // On screen: the plane fills the canvas, so face pixel (i, j) covers screen pixels (4i..4i+3, 4j..4j+3).
      const shot = DecodePngRgba(await page.screenshot({ clip: { x: 0, y: 0, width: CanvasSize, height: CanvasSize } }));
      const scale = CanvasSize / width;
      const rendered: number[][] = [];
      const expected: number[][] = [];
      const upsideDown: number[][] = [];
      for (let j = 0; j < height; j++) {
        for (let i = 0; i < width; i++) {
          const s = ((j * scale + scale / 2) * shot.width + i * scale + scale / 2) * 4;
          rendered.push([shot.data[s], shot.data[s + 1], shot.data[s + 2]]);
          expected.push([...face.subarray((j * width + i) * 4, (j * width + i) * 4 + 3)]);
          upsideDown.push([...face.subarray(((height - 1 - j) * width + i) * 4, ((height - 1 - j) * width + i) * 4 + 3)]);
        }
      }
      const correlations = [0, 1, 2].map((c) => Correlation(rendered, expected, c));
      const flipped = [0, 1, 2].map((c) => Correlation(rendered, upsideDown, c));
      process.stdout.write(`game: face on screen vs its texture, correlation per channel ${correlations.map((r) => r.toFixed(3)).join(", ")} (upside down ${flipped.map((r) => r.toFixed(3)).join(", ")})\n`);
      for (const r of correlations) expect(r).toBeGreaterThan(0.9);
      expect(Math.min(...correlations) - Math.max(...flipped)).toBeGreaterThan(0.2);
      expect(externalRequests).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await closeAsync();
      await server.closeAsync();
    }
  }, 300_000);
});

/**
 * The game a user writes: `main.ts` (one plane, a StandardMaterial with the face plugin, the default model's opt-in),
 * `index.html`, and `build.mjs` following plugin/README.md ("Use it in your game").
 */
async function WriteGameAsync(project: string): Promise<void> {
  const main = `
import { Engine } from "@babylonjs/core/Engines/engine.js";
import { Scene } from "@babylonjs/core/scene.js";
import { Camera } from "@babylonjs/core/Cameras/camera.js";
import { FreeCamera } from "@babylonjs/core/Cameras/freeCamera.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { Color3, Color4 } from "@babylonjs/core/Maths/math.color.js";
import { Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { CreatePlane } from "@babylonjs/core/Meshes/Builders/planeBuilder.js";
import { NpcFaceMaterialPlugin, NpcFaceSystem } from "@npc-faces/babylon";
import "@npc-faces/babylon/defaultModel";

const preload = NpcFaceSystem.Preload({ workerUrl: "faceWorker.js", wasmPaths: "ort/" });
const engine = new Engine(document.getElementById("game") as HTMLCanvasElement);
const scene = new Scene(engine);
scene.clearColor = new Color4(0, 0, 1, 1);
// An orthographic camera whose view is exactly the 2x2 plane: the face fills the canvas.
const camera = new FreeCamera("camera", new Vector3(0, 0, -2), scene);
camera.setTarget(Vector3.Zero());
camera.mode = Camera.ORTHOGRAPHIC_CAMERA;
camera.orthoLeft = -1;
camera.orthoRight = 1;
camera.orthoTop = 1;
camera.orthoBottom = -1;
const material = new StandardMaterial("face", scene);
// Unlit: the screen shows the face's colours.
material.disableLighting = true;
material.emissiveColor = Color3.White();
const plugin = new NpcFaceMaterialPlugin(material);
plugin.seed = ${GameSeed};
CreatePlane("head", { size: 2 }, scene).material = material;
await NpcFaceSystem.CreateAsync(scene, {
  workerUrl: "faceWorker.js",
  wasmPaths: "ort/",
  preload,
  onError: (e) => (document.body.dataset.gameError = e.code + ": " + e.message),
});
await scene.whenReadyAsync();
if (!plugin.face) document.body.dataset.gameError ??= "no face after scene.whenReadyAsync()";
(window as unknown as { game: unknown }).game = { plugin };
scene.onAfterRenderObservable.addOnce(() => (document.body.dataset.gameReady = ""));
engine.runRenderLoop(() => scene.render());
`;
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>game</title><link rel="icon" href="data:,">
<style>body { margin: 0 } canvas { display: block; width: ${CanvasSize}px; height: ${CanvasSize}px }</style></head>
<body><canvas id="game"></canvas><script type="module" src="main.js"></script></body></html>
`;
  const build = `import { build } from "esbuild";
import { copyFile, mkdir, readdir } from "node:fs/promises";

await build({ entryPoints: ["main.ts"], bundle: true, format: "esm", platform: "browser", outdir: "dist" });
await build({ entryPoints: { faceWorker: "@npc-faces/babylon/faceWorker" },
  bundle: true, format: "esm", platform: "browser", conditions: ["import", "browser"], outdir: "dist" });
const ort = "node_modules/onnxruntime-web/dist";
await mkdir("dist/ort", { recursive: true });
for (const file of await readdir(ort)) if (/^ort-wasm-simd-threaded.*\\.(wasm|mjs)$/.test(file)) await copyFile(\`\${ort}/\${file}\`, \`dist/ort/\${file}\`);
await copyFile("node_modules/@npc-faces/default-model/default.onnx", "dist/default.onnx");
await copyFile("index.html", "dist/index.html");
`;
  await Promise.all([writeFile(join(project, "main.ts"), main), writeFile(join(project, "index.html"), html), writeFile(join(project, "build.mjs"), build)]);
}

/** A static server for `root` on 127.0.0.1 with the COOP/COEP headers plugin/README.md asks for. */
async function ServeAsync(root: string): Promise<{ url: string; closeAsync(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = DecodeUrlPath(request.url ?? "/");
    void (async () => {
      const file = path === undefined ? undefined : await ResolveInsideAsync(root, path.endsWith("/") ? `${path}index.html` : path);
      const info = file === undefined ? undefined : await stat(file);
      if (!info?.isFile()) response.writeHead(404).end();
      else await SendFileAsync(response, file!, info.size, request.method === "HEAD");
    })();
  });
  const port = await ListenAsync(server, 0, "127.0.0.1");
  return { url: `http://127.0.0.1:${port}/`, closeAsync: () => CloseServerAsync(server) };
}

function ShownPixels(face: ShownFace): Uint8Array {
  return new Uint8Array(Buffer.from(face.base64, "base64"));
}

/** Pearson correlation of channel `c` of two lists of RGB samples. */
function Correlation(a: readonly (readonly number[])[], b: readonly (readonly number[])[], c: number): number {
  const n = a.length;
  const meanA = a.reduce((s, p) => s + p[c], 0) / n;
  const meanB = b.reduce((s, p) => s + p[c], 0) / n;
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < n; i++) {
    covariance += (a[i][c] - meanA) * (b[i][c] - meanB);
    varianceA += (a[i][c] - meanA) ** 2;
    varianceB += (b[i][c] - meanB) ** 2;
  }
  return covariance / Math.sqrt(varianceA * varianceB);
}
