/**
 * Bundles pay only for what they use (issue 16): a game that gives its own `modelUrl` never bundles the 5 MB default
 * model, with esbuild and with Vite (which copies `new URL("./x", import.meta.url)` assets into the build); the
 * default model comes with `import "@npc-faces/babylon/defaultModel"` only; `@npc-faces/babylon/pure` registers
 * nothing; `@babylonjs/loaders` / `serializers` come only with `@npc-faces/babylon/gltf` / `gltfExport`. Without a model and without the opt-in, a system fails at once with a message that names the opt-in.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build as EsBuild, type Plugin } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { NpcFaceSystem } from "@npc-faces/babylon";
import { CreateNullScene } from "./pluginTestScene.js";

const Root = fileURLToPath(new URL("../../", import.meta.url));
const Sources: Record<string, string> = { "@npc-faces/babylon": join(Root, "plugin", "src"), "@npc-faces/runtime": join(Root, "runtime", "src") };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-bundling-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `@npc-faces/babylon[/sub]` and `@npc-faces/runtime[/sub]` -> the checkout's TypeScript sources. */
function SourcePath(specifier: string): string | undefined {
  const match = /^(@npc-faces\/(?:babylon|runtime))(?:\/(.+))?$/.exec(specifier);
  if (!match) return undefined;
  const src = Sources[match[1]];
  if (match[2] === undefined) return join(src, "index.ts");
  return match[1] === "@npc-faces/runtime" ? join(src, match[2], "index.ts") : join(src, `${match[2]}.ts`);
}

function WorkspaceSources(): Plugin {
  return {
    name: "workspace-sources",
    setup(builder) {
      builder.onResolve({ filter: /^@npc-faces\/(babylon|runtime)(\/.*)?$/ }, (args) => ({ path: SourcePath(args.path)! }));
    },
  };
}

/** A minimal game: the system with the given options, one material with a face. */
async function GameEntryAsync(name: string, imports: string, options: string): Promise<string> {
  const file = join(dir, `${name}.ts`);
  await writeFile(
    file,
    `${imports}
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import type { Scene } from "@babylonjs/core/scene.js";
export async function StartAsync(scene: Scene): Promise<void> {
  await NpcFaceSystem.CreateAsync(scene, ${options});
  new NpcFaceMaterialPlugin(new StandardMaterial("npc", scene)).seed = 42;
}
`,
  );
  return file;
}

const OwnModel = `{ modelUrl: "/models/faces.onnx", workerUrl: "/faceWorker.js", wasmPaths: "/ort/" }`;
const NoModel = `{ workerUrl: "/faceWorker.js", wasmPaths: "/ort/" }`;
const Root_ = `import { NpcFaceMaterialPlugin, NpcFaceSystem } from "@npc-faces/babylon";`;

async function EsBundleAsync(entry: string): Promise<{ inputs: string[]; text: string; bytes: number }> {
  const result = await EsBuild({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    minify: true,
    metafile: true,
    logLevel: "silent",
    nodePaths: [join(Root, "node_modules")], // the entries are written to a temporary folder
    plugins: [WorkspaceSources()],
  });
  const text = result.outputFiles.map((f) => f.text).join("\n");
  return { inputs: Object.keys(result.metafile.inputs), text, bytes: result.outputFiles.reduce((n, f) => n + f.contents.byteLength, 0) };
}

describe("no model given", () => {
  it("without the default model's opt-in: a clear error at once, the scene has no system", () => {
    const { scene } = CreateNullScene();
    expect(NpcFaceSystem.DefaultModelUrl).toBeUndefined();
    expect(() => new NpcFaceSystem(scene, { mode: "inThread", backend: CreateNodeBackend() })).toThrow(
      'NpcFaceSystem: no model: give modelUrl or modelBytes, or import "@npc-faces/babylon/defaultModel" to use the bundled default model',
    );
    expect(NpcFaceSystem.Get(scene)).toBeUndefined();
    scene.dispose();
  });
});

describe("esbuild", () => {
  it("a game with its own modelUrl bundles neither the default model's module nor its URL", async () => {
    const own = await EsBundleAsync(await GameEntryAsync("own", Root_, OwnModel));
    expect(own.inputs.filter((i) => i.includes("models/index.js"))).toEqual([]);
    expect(own.text).not.toContain("default.onnx");
    expect(own.text).toContain("BABYLON.NpcFaceMaterialPlugin"); // the root entry registers the class

    const opted = await EsBundleAsync(await GameEntryAsync("opted", `${Root_}\nimport "@npc-faces/babylon/defaultModel";`, NoModel));
    expect(opted.inputs.some((i) => i.endsWith("models/index.js"))).toBe(true);
    expect(opted.text).toContain("default.onnx");
  });

  it("glTF: only a game that imports @npc-faces/babylon/gltf (or /gltfExport) bundles @babylonjs/loaders (or serializers)", async () => {
    const babylon = (inputs: string[], pkg: string) => inputs.filter((i) => i.includes(`@babylonjs/${pkg}/`));
    const own = await EsBundleAsync(await GameEntryAsync("own-nogltf", Root_, OwnModel));
    expect(babylon(own.inputs, "loaders")).toEqual([]);
    expect(babylon(own.inputs, "serializers")).toEqual([]);
    expect(own.text).not.toContain("NPC_faces");

    const gltf = await EsBundleAsync(await GameEntryAsync("gltf", `${Root_}\nimport "@npc-faces/babylon/gltf";`, OwnModel));
    expect(babylon(gltf.inputs, "loaders").length).toBeGreaterThan(0);
    expect(babylon(gltf.inputs, "serializers")).toEqual([]);
    expect(gltf.text).toContain("NPC_faces");
    // The extension needs the registry only: the glTF loader itself is the game's import.
    expect(babylon(gltf.inputs, "loaders").filter((i) => i.endsWith("glTFLoader.pure.js"))).toEqual([]);

    const exporter = await EsBundleAsync(await GameEntryAsync("gltf-export", `${Root_}\nimport "@npc-faces/babylon/gltfExport";`, OwnModel));
    expect(babylon(exporter.inputs, "serializers").length).toBeGreaterThan(0);
    expect(babylon(exporter.inputs, "loaders")).toEqual([]);
  });

  it("@npc-faces/babylon/pure registers nothing", async () => {
    const pure = await EsBundleAsync(await GameEntryAsync("pure", `import { NpcFaceMaterialPlugin, NpcFaceSystem } from "@npc-faces/babylon/pure";`, OwnModel));
    expect(pure.text).not.toContain("BABYLON.NpcFaceMaterialPlugin");
    expect(pure.text).toContain("NpcFace"); // the plugin itself is there
  });
});

describe("Vite (copies new URL(..., import.meta.url) assets)", () => {
  async function ViteBuildAsync(name: string, entry: string): Promise<string[]> {
    const { build } = await import("vite");
    const outDir = join(dir, `vite-${name}`);
    await build({
      root: dir,
      configFile: false,
      logLevel: "silent",
      resolve: { alias: [{ find: /^@npc-faces\/(babylon|runtime)(\/.*)?$/, replacement: "$&", customResolver: (source: string) => SourcePath(source) }] },
      // Not library mode, which inlines every asset: an application build, as a game's.
      build: { outDir, emptyOutDir: true, minify: false, rollupOptions: { input: entry, preserveEntrySignatures: "exports-only", external: [/^@babylonjs\//] } },
    });
    return readdir(outDir, { recursive: true });
  }

  it("the default model is in the build only when the game imports @npc-faces/babylon/defaultModel", async () => {
    const own = await ViteBuildAsync("own", await GameEntryAsync("vite-own", Root_, OwnModel));
    expect(own.filter((f) => f.endsWith(".onnx"))).toEqual([]);
    const opted = await ViteBuildAsync("opted", await GameEntryAsync("vite-opted", `${Root_}\nimport "@npc-faces/babylon/defaultModel";`, NoModel));
    expect(opted.filter((f) => f.endsWith(".onnx"))).toHaveLength(1);
  });
});
