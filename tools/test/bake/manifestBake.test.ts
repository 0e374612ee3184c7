/**
 * `npc-faces bake --manifest` end to end (built CLI, real onnxruntime-node, real files): reproducible output,
 * the cache (no inference when nothing changed, one face when one NPC changed), shards merged = unsharded, and
 * bad input failing clearly with nothing written.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadBakeProvenance } from "../../src/bake/bakeProvenance.js";
import { ParseBakedFaces } from "../../src/bake/bakedFacesManifest.js";
import { ShardOfId } from "../../src/bake/shard.js";
import { CacheKeyKeyword, NpcIdKeyword } from "../../src/bake/bakeCache.js";
import { ReadPngText } from "../../src/bake/pngProvenance.js";
import { BakeCliAsync, ExportTinyModelAsync, RunCliAsync, type CliResult, FileSha256Async, SameSnapshot, SnapshotAsync, TestNpcs, WriteManifestAsync, type TestNpc } from "./bakeTestUtils.js";

let dir: string;
let model: string;
let modelSha256: string;
let npcs: TestNpc[];
let manifest: string;
/** Unsharded bake of `manifest`, 2 workers. */
let first: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-mbake-"));
  model = join(dir, "tiny.onnx");
  await ExportTinyModelAsync(model);
  modelSha256 = await FileSha256Async(model);
  npcs = TestNpcs(24);
  npcs[3] = { ...npcs[3], mixSeed: 99, mix: 0.5, mixCrossover: 2, controls: { direction_0: 1.5 }, notes: "mixed" };
  manifest = await WriteManifestAsync(join(dir, "npcs.npcfaces.json"), modelSha256, npcs);
  first = join(dir, "first");
  const result = await BakeCliAsync(model, ["--manifest", manifest, "--out", first, "--workers", "2", "--batch", "4"]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^baked 24 faces, 0 cached \(2 workers, [\d.]+ faces\/s, .*\); 24 NPCs, 16x16, into .*first \(faces\.json\) in [\d.]+ s; model "tiny-untrained" sha256 [0-9a-f]{12}\n$/);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("npc-faces bake --manifest", () => {
  it("writes one PNG per NPC with provenance and an output manifest of files and hashes", async () => {
    const names = (await readdir(first)).sort();
    expect(names).toEqual([...npcs.map((n) => `${n.id}.png`), "faces.json"].sort());
    const doc = ParseBakedFaces(await readFile(join(first, "faces.json"), "utf8"), "faces.json");
    expect(doc.model.sha256).toBe(modelSha256);
    expect(doc.npcCount).toBe(24);
    expect(Object.keys(doc.faces)).toEqual(npcs.map((n) => n.id));
    for (const npc of npcs) {
      const entry = doc.faces[npc.id];
      expect(entry.file).toBe(`${npc.id}.png`);
      expect(await FileSha256Async(join(first, entry.file))).toBe(entry.sha256);
    }
    const png = new Uint8Array(await readFile(join(first, "npc_003.png")));
    const provenance = ReadBakeProvenance(png)!;
    expect(provenance.model.sha256).toBe(modelSha256);
    expect(provenance.seed).toBe(npcs[3].seed);
    expect(provenance.params).toMatchObject({ mixSeed: 99, mix: 0.5, crossover: 2, psi: 0.7 });
    expect(provenance.params.controls.direction_0).toBe(1.5);
    expect(provenance.tool).toMatch(/^npc-faces \d/);
    const text = ReadPngText(png);
    expect(text[NpcIdKeyword]).toBe("npc_003");
    expect(text[CacheKeyKeyword]).toBe(doc.faces.npc_003.key);
  });

  it("is byte-identical when baked again (1 worker, other batch size), and a rerun does no inference", async () => {
    const second = join(dir, "second");
    const again = await BakeCliAsync(model, ["--manifest", manifest, "--out", second, "--workers", "1", "--batch", "3"]);
    expect(again.code).toBe(0);
    expect(SameSnapshot(await SnapshotAsync(first), await SnapshotAsync(second))).toBe(true);

    const before = await Promise.all(npcs.map((n) => stat(join(second, `${n.id}.png`))));
    const rerun = await BakeCliAsync(model, ["--manifest", manifest, "--out", second]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/^baked 0 faces: all 24 cached, no inference; 24 NPCs/);
    const after = await Promise.all(npcs.map((n) => stat(join(second, `${n.id}.png`))));
    expect(after.map((s) => s.mtimeMs)).toEqual(before.map((s) => s.mtimeMs));

    // --force rebakes everything, to the same bytes.
    const forced = await BakeCliAsync(model, ["--manifest", manifest, "--out", second, "--force", "--workers", "1"]);
    expect(forced.stdout).toMatch(/^baked 24 faces, 0 cached/);
    expect(SameSnapshot(await SnapshotAsync(first), await SnapshotAsync(second))).toBe(true);
  });

  it("rebakes exactly the NPC that changed, and deletes the face of a removed NPC", async () => {
    const out = join(dir, "changed");
    await BakeCliAsync(model, ["--manifest", manifest, "--out", out, "--workers", "1"]);
    const old = await SnapshotAsync(out);
    const changedNpcs = npcs.map((n, i) => (i === 5 ? { ...n, seed: 4242 } : n)).filter((_, i) => i !== 7);
    const changed = await WriteManifestAsync(join(dir, "changed.json"), modelSha256, changedNpcs);
    const result = await BakeCliAsync(model, ["--manifest", changed, "--out", out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^baked 1 face, 22 cached \(1 worker,.*removed 1 stale/);
    const now = await SnapshotAsync(out);
    const differing = [...now.keys()].filter((name) => !now.get(name)!.equals(old.get(name) ?? Buffer.alloc(0)));
    expect(differing.sort()).toEqual(["faces.json", "npc_005.png"]);
    expect(now.has("npc_007.png")).toBe(false);
    expect(ReadBakeProvenance(new Uint8Array(now.get("npc_005.png")!))!.seed).toBe(4242);
  });

  it("merges shards 1/3, 2/3, 3/3 into the unsharded output, byte for byte (with the atlas)", async () => {
    const shards = [1, 2, 3].map((i) => join(dir, `shard-${i}`));
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await BakeCliAsync(model, ["--manifest", manifest, "--out", shards[i], "--shard", `${i + 1}/3`, "--workers", "1"]));
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(0);
      const mine = npcs.filter((n) => ShardOfId(n.id, 3) === i + 1).map((n) => `${n.id}.png`);
      expect((await readdir(shards[i])).sort()).toEqual([...mine, `faces.shard-${i + 1}-of-3.json`].sort());
    }
    const merged = join(dir, "merged");
    const merge = await RunMerge([...shards, "--out", merged]);
    expect(merge.stdout).toMatch(/^merged 3 shards: 24 faces \(24 copied\)/);
    expect(SameSnapshot(await SnapshotAsync(merged), await SnapshotAsync(first))).toBe(true);

    // With atlases: merge --atlas = unsharded --atlas.
    const mergedAtlas = join(dir, "merged-atlas");
    const unshardedAtlas = join(dir, "unsharded-atlas");
    await RunMerge([...shards, "--out", mergedAtlas, "--atlas", "64x48"]);
    const unsharded = await BakeCliAsync(model, ["--manifest", manifest, "--out", unshardedAtlas, "--atlas", "64x48", "--workers", "1"]);
    expect(unsharded.stdout).toMatch(/atlas 4 pages/); // 3x2 faces of 20x20 cells per page, 24 faces
    expect(SameSnapshot(await SnapshotAsync(mergedAtlas), await SnapshotAsync(unshardedAtlas))).toBe(true);

    // An incomplete set is refused, writing nothing.
    const partial = join(dir, "partial");
    const refused = await RunMergeRaw([shards[0], shards[2], "--out", partial]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/incomplete: shard 2\/3 missing/);
    await expect(stat(partial)).rejects.toThrow();
  });
});

function RunMergeRaw(args: readonly string[]): Promise<CliResult> {
  return RunCliAsync(["bake", "merge", ...args]);
}

async function RunMerge(args: readonly string[]): Promise<CliResult> {
  const result = await RunMergeRaw(args);
  expect(result.code, result.stderr).toBe(0);
  return result;
}

describe("npc-faces bake --manifest: bad input", () => {
  it("lists every manifest problem with its path (ids escaping the folder included) and writes nothing", async () => {
    const out = join(dir, "bad", "out");
    await mkdir(join(dir, "bad"));
    const bad = await WriteManifestAsync(join(dir, "bad.json"), modelSha256, [
      { id: "ok", name: "fine", seed: 1 },
      { id: "../escape", name: "evil", seed: 2 },
      { id: "ok", name: "again", seed: 3 },
      { id: "big", name: "b", seed: -4 },
      { id: "ctl", name: "c", seed: 5, controls: { smile: 1 } },
      { id: "Case", name: "c1", seed: 6 },
      { id: "case", name: "c2", seed: 7 },
    ]);
    const result = await BakeCliAsync(model, ["--manifest", bad, "--out", out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^npc-faces: error: --manifest .*bad\.json: 3 problems: npcs\[1\]\.id: expected an id of letters/);
    expect(result.stderr).toMatch(/ npcs\[3\]\.seed: expected an integer in 0\.\.4294967295 /);
    expect(result.stderr).toMatch(/ npcs\[2\]\.id: duplicate id "ok" \(also npcs\[0\]\)/);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    const semantic = await WriteManifestAsync(join(dir, "semantic.json"), modelSha256, [
      { id: "ctl", name: "c", seed: 5, controls: { smile: 1 } },
      { id: "Case", name: "c1", seed: 6 },
      { id: "case", name: "c2", seed: 7, mixCrossover: 99, mixSeed: 1 },
    ]);
    const second = await BakeCliAsync(model, ["--manifest", semantic, "--out", out]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/npcs\[0\]\.controls\.smile: unknown control/);
    expect(second.stderr).toMatch(/npcs\[2\]\.mixCrossover: expected an integer in 0\.\.\d+\b/);
    expect(second.stderr).toMatch(/: 3 problems with model "tiny-untrained"/);
    expect(second.stderr).toMatch(/npcs\[2\]\.id: "case" and "Case" differ only in case/);
    expect(await readdir(join(dir, "bad"))).toEqual([]);
  });

  it("refuses an atlas too small for one face, an unknown model, and flags of the other form, writing nothing", async () => {
    const out = join(dir, "refused");
    const cases: [string[], number, RegExp][] = [
      [["--manifest", manifest, "--out", out, "--atlas", "19x64"], 2, /--atlas: a 19x64 page is too small for one 16x16 face with its 2 px gutter \(needs at least 20x20\)/],
      [["--manifest", manifest, "--out", out, "--atlas", "big"], 2, /option '--atlas <WxH>' argument 'big' is invalid/],
      [["--manifest", manifest, "--out", out, "--shard", "4/3"], 2, /shard 4 of 3 does not exist/],
      [["--manifest", manifest, "--out", out, "--shard", "1/3", "--atlas", "64x64"], 2, /atlases cover all NPCs/],
      [["--manifest", manifest, "--out", out, "--psi", "0.5"], 2, /--psi is not used with --manifest/],
      [["--manifest", manifest, "--out", out, "--label", "gender=female"], 2, /--label is not used with --manifest/],
      [["--seeds", "1-3", "--out", out, "--workers", "2"], 2, /--workers needs --manifest/],
      [["--seeds", "1", "--manifest", manifest, "--out", out], 2, /--seeds and --manifest cannot be used together/],
      [["--manifest", join(dir, "missing.json"), "--out", out], 2, /--manifest .*missing\.json: cannot read the manifest \(no such file\)/],
    ];
    for (const [args, code, message] of cases) {
      const result = await BakeCliAsync(model, args);
      expect(result.stderr, args.join(" ")).toMatch(message);
      expect(result.code, args.join(" ")).toBe(code);
    }
    const unknown = await BakeCliAsync(manifest, ["--manifest", manifest, "--out", out]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^npc-faces: error: --model .*npcs\.npcfaces\.json: /);
    const missing = await BakeCliAsync(join(dir, "nope.onnx"), ["--manifest", manifest, "--out", out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--model .*nope\.onnx: cannot read the model file \(no such file\)/);
    await expect(stat(out)).rejects.toThrow();
  });
});
