/**
 * Fuzzed bake documents: output manifests (faces.json and shard files, ParseBakedFaces), shard merges
 * (MergeBakeShardsAsync) of edited shard files, and face manifests given to a bake (PlanManifestBakeAsync). Each is
 * refused with the module's error type and a one-line message, or accepted and works; a merge writes nothing
 * outside its output folder.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sha256HexAsync } from "@npc-faces/runtime";
import { BakeMergeError, MergeBakeShardsAsync } from "../../../tools/src/bake/bakeMerge.js";
import { ParseBakedFaces } from "../../../tools/src/bake/bakedFacesManifest.js";
import { BakeManifestFileAsync, ManifestBakeError, PlanManifestBakeAsync } from "../../../tools/src/bake/manifestBake.js";
import { ParseShard } from "../../../tools/src/bake/shard.js";
import { AtlasError, ParseAtlasSize, PlanAtlas } from "../../../tools/src/bake/atlasPacker.js";
import { TinyModelAsync } from "../../../runtime/test/testModels.js";
import { LoadNpcFaceAtlasAsync } from "../../../plugin/src/npcFaceAtlas.js";
import { FuzzParameters, IsOneLine } from "./fuzzUtil.js";

let dir = "";
let model = "";
let sha256 = "";
/** The two shard folders of a real 8-NPC bake. */
const shardDirs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npcf-fuzz-bake-"));
  model = join(dir, "tiny.onnx");
  const bytes = await TinyModelAsync();
  await writeFile(model, bytes);
  sha256 = await Sha256HexAsync(bytes);
  const manifest = join(dir, "npcs.json");
  await writeFile(manifest, JSON.stringify({ format: "npc-faces-manifest", formatVersion: 1, model: { sha256, name: "tiny" }, npcs: Array.from({ length: 8 }, (_, i) => ({ id: `npc_${i}`, name: `N${i}`, seed: i })) }));
  for (const shard of ["1/2", "2/2"]) {
    const out = join(dir, `shard-${shard[0]}`);
    await BakeManifestFileAsync({ manifest, model, outDir: out, shard: ParseShard(shard), workers: 1, engine: "native" });
    shardDirs.push(out);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file under `root` (relative paths). */
async function FilesAsync(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(root, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

const Hostile = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 1.5, 1e9, "", "../x.png", "/tmp/x.png", "a\u0000b", "faces.json", null));

describe("fuzz: bake outputs", () => {
  it("output manifest text: an Error with one line naming the file, or a document", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.json({ maxDepth: 3 })), (text) => {
        try {
          ParseBakedFaces(text, "faces.json");
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message.startsWith("faces.json: ")).toBe(true);
          expect(IsOneLine((error as Error).message)).toBe(true);
        }
      }),
      FuzzParameters(1500, 2000),
    );
  });

  it("atlas layouts: AtlasError in one line, or every face inside its page, none overlapping", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,5}x[0-9]{1,5}$/), fc.integer({ min: 1, max: 300 }), fc.nat({ max: 300 }), (text, faceSize, count) => {
        let layout;
        try {
          layout = PlanAtlas(ParseAtlasSize(text), faceSize, Array.from({ length: count }, (_, i) => `npc_${i}`));
        } catch (error) {
          expect(error).toBeInstanceOf(AtlasError);
          expect(IsOneLine((error as Error).message)).toBe(true);
          return;
        }
        const taken = new Set<string>();
        for (const r of layout.rects.values()) {
          expect(r.x >= 0 && r.y >= 0 && r.x + r.width <= layout.size.width && r.y + r.height <= layout.size.height && r.page < layout.pageCount).toBe(true);
          const slot = `${r.page}:${r.x}:${r.y}`;
          expect(taken.has(slot)).toBe(false);
          taken.add(slot);
        }
        expect(layout.rects.size).toBe(count);
      }),
      FuzzParameters(1000, 2000),
    );
  });

  it("edited shard files: the merge refuses with BakeMergeError (one line) or merges, never writing outside its output", async () => {
    const original = await Promise.all(shardDirs.map(async (d) => {
      const name = (await readdir(d)).find((n) => n.startsWith("faces.shard-"))!;
      return { name, doc: JSON.parse(await readFile(join(d, name), "utf8")) as Record<string, unknown> & { faces: Record<string, Record<string, unknown>> } };
    }));
    let run = 0;
    let merged = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 1 }),
        fc.oneof(
          fc.record({ kind: fc.constant("field" as const), field: fc.constantFrom("format", "formatVersion", "tool", "model", "size", "npcCount", "shard", "faces"), value: Hostile }),
          // Face entries: any field but `file` (a hostile `file` is the known escape below).
          fc.record({ kind: fc.constant("face" as const), index: fc.nat({ max: 7 }), field: fc.constantFrom("sha256", "width", "height", "key"), value: Hostile }),
          fc.record({ kind: fc.constant("id" as const), index: fc.nat({ max: 7 }), id: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("__proto__", "constructor", "npc_0", "")) }),
          fc.record({ kind: fc.constant("text" as const), text: fc.string({ maxLength: 30 }) }),
        ),
        async (which, edit) => {
          const sandbox = join(dir, `merge-${run++}`);
          const inputs = [join(sandbox, "a"), join(sandbox, "b")];
          await Promise.all(shardDirs.map((d, i) => cp(d, inputs[i], { recursive: true })));
          const { name, doc } = original[which];
          const copy = structuredClone(doc) as Record<string, unknown> & { faces: Record<string, Record<string, unknown>> };
          let text: string;
          if (edit.kind === "text") text = edit.text;
          else {
            if (edit.kind === "field") (copy as Record<string, unknown>)[edit.field] = edit.value;
            else {
              const ids = Object.keys(copy.faces);
              const id = ids[edit.index % Math.max(1, ids.length)];
              if (id !== undefined && edit.kind === "face") copy.faces[id][edit.field] = edit.value;
              else if (id !== undefined && edit.kind === "id") {
                const face = copy.faces[id];
                delete copy.faces[id];
                copy.faces[edit.id] = face;
              }
            }
            text = JSON.stringify(copy);
          }
          await writeFile(join(inputs[which], name), text);
          const before = await FilesAsync(sandbox);
          const out = join(sandbox, "out");
          try {
            await MergeBakeShardsAsync({ shardDirs: inputs, outDir: out });
            merged++;
          } catch (error) {
            expect(error, (error as Error).stack).toBeInstanceOf(BakeMergeError);
            expect(IsOneLine((error as Error).message), (error as Error).message).toBe(true);
          }
          const written = (await FilesAsync(sandbox)).filter((f) => !before.includes(f));
          expect(written.filter((f) => !f.startsWith(`out/`))).toEqual([]);
          await rm(sandbox, { recursive: true, force: true });
        },
      ),
      FuzzParameters(150, 6000),
    );
    expect(merged).toBeGreaterThanOrEqual(0);
  });

  // Found by this fuzzing: a shard file's `file` was any string, and the merge wrote the face to join(outDir, file),
  // so "../x.png" landed beside the output folder. BakedFaceSchema now requires a plain "<npc id>.png".
  it("a shard file naming a face file outside the folder is refused, and nothing is written outside the output", async () => {
    const sandbox = join(dir, "escape");
    const inputs = [join(sandbox, "a"), join(sandbox, "b")];
    await Promise.all(shardDirs.map((d, i) => cp(d, inputs[i], { recursive: true })));
    const name = (await readdir(inputs[0])).find((n) => n.startsWith("faces.shard-"))!;
    const doc = JSON.parse(await readFile(join(inputs[0], name), "utf8")) as { faces: Record<string, { file: string }> };
    const id = Object.keys(doc.faces)[0];
    // The face's bytes where "../escaped.png" resolves from the shard folder, so the hash check passes.
    await writeFile(join(sandbox, "escaped.png"), await readFile(join(inputs[0], doc.faces[id].file)));
    doc.faces[id].file = "../escaped.png";
    await writeFile(join(inputs[0], name), JSON.stringify(doc));
    await mkdir(join(sandbox, "deep"), { recursive: true });
    const result = await MergeBakeShardsAsync({ shardDirs: inputs, outDir: join(sandbox, "deep", "out") }).then(() => "merged", (error: Error) => error);
    expect(await FilesAsync(join(sandbox, "deep"))).not.toContain("escaped.png");
    expect(result).toBeInstanceOf(BakeMergeError);
  });

  // Found by this fuzzing: an atlas JSON with the right format fields but a malformed body threw TypeErrors
  // ("document.pages.map is not a function") instead of the loader's "<url>: not an npc-faces atlas" Error.
  it("atlas JSON with a malformed body: the plugin's loader refuses it with its own message", async () => {
    const head = { format: "npc-faces-atlas", formatVersion: 1, uvConvention: "babylon-invertY" };
    for (const document of [{ ...head, pages: "x", faces: {} }, { ...head, pages: [], faces: { a: null } }]) {
      // Refused before any texture is created, so no scene is needed.
      const error = await LoadNpcFaceAtlasAsync(null as never, "faces/atlas.json", { loadJsonAsync: async () => document }).then(() => null, (e: Error) => e);
      expect(error?.message).toMatch(/^faces\/atlas\.json: /);
    }
  });

  it("face manifests given to a bake: ManifestBakeError or a plan whose files stay in the output folder", async () => {
    const out = join(dir, "plan-out");
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ id: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("..", "../a", "a/b", ".x", "CON", "x".repeat(129))), name: fc.string({ maxLength: 4 }), seed: fc.nat() }), { maxLength: 4 }),
        fc.oneof(fc.constant(""), fc.string({ maxLength: 20 })),
        async (npcs, garbage) => {
          const manifest = join(dir, "fuzz-manifest.json");
          await writeFile(manifest, garbage || JSON.stringify({ format: "npc-faces-manifest", formatVersion: 1, model: { sha256, name: "tiny" }, npcs }));
          try {
            const plan = await PlanManifestBakeAsync({ manifest, model, outDir: out });
            for (const face of plan.faces) expect(relative(out, join(out, face.file)).startsWith("..")).toBe(false);
          } catch (error) {
            expect(error).toBeInstanceOf(ManifestBakeError);
            // The manifest's problems are listed one per line (the CLI folds them into one).
            expect((error as Error).message.split("\n")[0].length).toBeGreaterThan(0);
          }
        },
      ),
      FuzzParameters(200, 4000),
    );
  });
});
