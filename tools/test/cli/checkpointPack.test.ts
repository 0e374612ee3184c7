/**
 * `npc-faces checkpoint pack|info` and `npc-faces train --resume-from` with the built CLI: a tiny conditional
 * run (wasm) is packed, two new run folders continue from the packed file with no flags of the original run
 * (preset, labels and target come from the checkpoint) and end with identical weights; kimg and the log go on;
 * then --resume goes on there; bad input (corrupted, truncated, wrong file, missing run, occupied run folder) gives
 * one line and writes nothing.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import sharp from "sharp";
import { ParseCheckpoint, type CheckpointContents } from "@npc-faces/trainer";
import { ReadModelMetadata } from "@npc-faces/runtime";
import { MapLimitAsync, RunCliAsync } from "./cliTestData.js";

let dir = "";
let data = "";
let packed = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npcf-pack-"));
  data = join(dir, "data");
  packed = join(dir, "models", "training", "checkpoint.npcfckpt.gz");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function ReadRunAsync(run: string): Promise<CheckpointContents> {
  return ParseCheckpoint(await readFile(join(run, "checkpoint.ckpt")), run);
}

function Tensors(c: CheckpointContents): Map<string, Float32Array> {
  const s = c.state;
  const all = new Map<string, Float32Array>();
  for (const [group, m] of [["G", s.generator], ["G_ema", s.generatorEma], ["D", s.discriminator]] as const) for (const [k, v] of m) all.set(`${group}/${k}`, v);
  for (const [group, adam] of [["adamG", s.adamG], ["adamD", s.adamD]] as const) adam.m.forEach((m, i) => all.set(`${group}/m${i}`, m).set(`${group}/v${i}`, adam.v[i]));
  return all;
}

function SameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const TrainArgs = ["--batch", "4", "--tick", "0.008", "--backend", "wasm"];
// Each CLI run takes about a CPU second; on the shared 2-core machine under load a run can wait 10-20 s for it.
const Timeout = 400_000;

describe("npc-faces checkpoint pack / train --resume-from", () => {
  it("packs a run, and two runs continued from the packed file go on identically", async () => {
    const made = await RunCliAsync(["dataset", "--source", "facesjs", "--count", "6", "--res", "16", "--out", data, "--no-progress"]);
    expect(made.code, made.stderr).toBe(0);
    const first = join(dir, "first");
    const trained = await RunCliAsync(["train", "--data", data, "--out", first, "--preset", "tiny", "--cond", "--labels", "skin_tone,gender", "--kimg", "0.016", "--snap", "1", ...TrainArgs]);
    expect(trained.code, trained.stderr).toBe(0);

    const pack = await RunCliAsync(["checkpoint", "pack", "--run", first, "--out", packed]);
    expect(pack.code, pack.stderr).toBe(0);
    expect(pack.stdout).toMatch(/^packed .*first\/checkpoint\.ckpt \([\d.]+ [KM]iB, 0\.016 kimg\) -> .*checkpoint\.npcfckpt\.gz: [\d.]+ [KM]iB \(\d+%; fp16 weights, bfloat16 Adam moments, gzip; log: 2 lines\)\n$/);
    const plainBytes = (await readFile(join(first, "checkpoint.ckpt"))).length;
    const packedBytes = await readFile(packed);
    expect(packedBytes.length).toBeLessThan(plainBytes / 2);
    const original = await ReadRunAsync(first);

    const info = await RunCliAsync(["checkpoint", "info", packed]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/storage: +packed \(gzip of .*\), float16 \+ bfloat16, format version 3/);
    expect(info.stdout).toMatch(/progress: +0\.016 kimg of 0\.016 \(step 4,/);
    expect(info.stdout).toMatch(/preset: +tiny, batch 4, .*conditional/);
    expect(info.stdout).toContain(`id ${original.data.id}`);
    expect(info.stdout).toMatch(/labels: +skin_tone, gender=/);
    expect(info.stdout).toMatch(/log: +2 lines included/);

    // export --run --data: the data set's licence in the provenance, its training label vectors as the label table,
    // and the default noise strength given.
    const model = join(dir, "first.onnx");
    const exported = await RunCliAsync(["export", "--run", first, "--data", data, "--out", model, "--controls", "0", "--noise-strength", "0.5"]);
    expect(exported.code, exported.stderr).toBe(0);
    const metadata = ReadModelMetadata(await readFile(model));
    expect(metadata.provenance.licenses.join()).toMatch(/Apache-2\.0/);
    expect(metadata.defaults).toEqual({ psi: 0.7, noiseStrength: 0.5 });
    const manifest = JSON.parse(await readFile(join(data, "dataset.json"), "utf8")) as { images: { split: string; numeric: Record<string, number>; labels: Record<string, string> }[] };
    const training = manifest.images.filter((e) => e.split === "train");
    const rows = training.map((e) => {
      const row = new Array<number>(metadata.labelDim);
      for (const l of metadata.labels) l.values.forEach((v, j) => (row[l.offset + j] = l.values.length > 1 ? Number(e.labels[l.name] === v) : Math.round(e.numeric[l.name] * 1e4) / 1e4));
      return row;
    });
    expect(metadata.labels.map((l) => l.name).sort()).toEqual(["gender", "skin_tone"]);
    expect(metadata.labelTable).toEqual(rows);
    // --label-table-rows: that many rows, spread evenly over the split; 0 is refused before anything is written.
    const twoRows = join(dir, "two-rows.onnx");
    const small = await RunCliAsync(["export", "--run", first, "--data", data, "--out", twoRows, "--controls", "0", "--label-table-rows", "2"]);
    expect(small.code, small.stderr).toBe(0);
    expect(ReadModelMetadata(await readFile(twoRows)).labelTable).toEqual([rows[0], rows[Math.floor(rows.length / 2)]]);
    const none = await RunCliAsync(["export", "--run", first, "--data", data, "--out", join(dir, "no-rows.onnx"), "--label-table-rows", "0"]);
    expect([none.code, none.stderr]).toEqual([2, expect.stringMatching(/--label-table-rows.*0/)]);

    // No --preset, --cond or --labels: they come from the checkpoint (the default preset, game64, would not fit 16 px).
    const runs = [join(dir, "second"), join(dir, "third")];
    const resumed = await Promise.all(runs.map((run) => RunCliAsync(["train", "--data", data, "--out", run, "--resume-from", packed, "--kimg", "0.024", ...TrainArgs])));
    for (const [i, run] of runs.entries()) {
      expect(resumed[i].code, resumed[i].stderr).toBe(0);
      const log = (await readFile(join(run, "log.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
      expect(log.map((l) => l.tick)).toEqual([1, 2, 3]);
      expect(log[2].kimg).toBeCloseTo(0.024);
    }
    const [a, b] = await Promise.all(runs.map(ReadRunAsync));
    expect(a.state.imagesSeen).toBe(24);
    expect(a.options).toEqual({ ...original.options, kimg: 0.024 });
    expect(a.data.labelNames).toEqual(original.data.labelNames);
    const [ta, tb, t0] = [Tensors(a), Tensors(b), Tensors(original)];
    expect([...ta.keys()]).toEqual([...tb.keys()]);
    for (const [k, v] of ta) expect(SameBits(v, tb.get(k)!), k).toBe(true);
    expect([...ta].filter(([k, v]) => !SameBits(v, t0.get(k)!)).length).toBeGreaterThan(ta.size / 2); // it trained on
    expect(a.state.random).toEqual(b.state.random);

    // A run folder that holds a checkpoint is never overwritten from a packed file.
    const before = await readFile(join(runs[0], "checkpoint.ckpt"));
    const again = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume-from", packed, "--kimg", "0.032", ...TrainArgs]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--resume-from: .*second already holds a run \(checkpoint\.ckpt\); continue it with --resume/);
    expect((await readFile(join(runs[0], "checkpoint.ckpt"))).equals(before)).toBe(true);
    // A flag that says what the run trains and that a resume cannot change is refused, not dropped.
    const changed = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume", "--kimg", "0.04", "--pl-weight", "0", ...TrainArgs]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/--pl-weight 0: a resumed run keeps its checkpoint's plWeight \(2\); only --kimg, --batch, --lr, --gamma, --label-loss, --aug, --ada-target and a wider --preset/);
    // So is --seed when typed (its default is no change); a --preset of another resolution is refused as for a new run.
    const reseeded = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume", "--kimg", "0.04", "--seed", "7", ...TrainArgs]);
    expect([reseeded.code, reseeded.stderr.trim()]).toEqual([2, expect.stringContaining("--seed 7: a resumed run keeps its checkpoint's seed (0)")]);
    const resized = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume", "--kimg", "0.04", "--preset", "npc64", ...TrainArgs]);
    expect([resized.code, resized.stderr.trim()]).toEqual([2, expect.stringContaining("--preset npc64 trains 64x64 images, the data has 16x16")]);
    expect((await readFile(join(runs[0], "checkpoint.ckpt"))).equals(before)).toBe(true);
    // There --resume goes on, again without the original run's --preset, --cond and --labels; --lr replaces the
    // checkpoint's learning rate, --gamma its R1 weight and --batch its minibatch (the other options stay the
    // checkpoint's; the same --tick is no change).
    const more = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume", "--kimg", "0.04", "--lr", "0.001", "--gamma", "0.5", "--seed", "0", ...TrainArgs, "--batch", "16"]);
    expect(more.code, more.stderr).toBe(0);
    const slower = await ReadRunAsync(runs[0]);
    expect(slower.state.imagesSeen).toBe(40); // 24 + one step of 16
    expect(slower.options).toEqual({ ...original.options, kimg: 0.04, learningRate: 0.001, gamma: 0.5, batch: 16 });
    // A resume can turn the label loss on: D gains its label head, which the next checkpoint holds.
    const labelled = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume", "--kimg", "0.048", "--label-loss", "0.5", "--engine", "ort", ...TrainArgs]);
    expect(labelled.code, labelled.stderr).toBe(0);
    const withHead = await ReadRunAsync(runs[0]);
    expect(withHead.options.labelLoss).toBe(0.5);
    expect([...withHead.state.discriminator.keys()].filter((name) => name.startsWith("discriminator.b4.labels."))).toHaveLength(2);
    // And --label-loss 0 turns it off again: the head goes.
    const unlabelled = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume", "--kimg", "0.056", "--label-loss", "0", "--engine", "ort", ...TrainArgs]);
    expect(unlabelled.code, unlabelled.stderr).toBe(0);
    const withoutHead = await ReadRunAsync(runs[0]);
    expect(withoutHead.options.labelLoss).toBe(0);
    expect([...withoutHead.state.discriminator.keys()].filter((name) => name.startsWith("discriminator.b4.labels."))).toHaveLength(0);
    // --aug none drops ADA (its state leaves the checkpoint); --aug ada brings it back (a fresh controller, p = 0).
    const unaugmented = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume", "--kimg", "0.072", "--aug", "none", ...TrainArgs, "--batch", "16"]);
    expect(unaugmented.code, unaugmented.stderr).toBe(0);
    const plain = await ReadRunAsync(runs[0]);
    expect([plain.options.aug, plain.state.augment, plain.state.imagesSeen]).toEqual(["none", null, 72]);
    const augmented = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume", "--kimg", "0.088", "--aug", "ada", ...TrainArgs, "--batch", "16"]);
    expect(augmented.code, augmented.stderr).toBe(0);
    const ada = await ReadRunAsync(runs[0]);
    expect(ada.options.aug).toBe("ada");
    expect(ada.state.augment).toMatchObject({ controller: { p: expect.any(Number) } });
    // --ada-target replaces the run's target and the controller's (its p carries over); out of (0, 1) it is refused.
    const retargeted = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume", "--kimg", "0.104", "--ada-target", "0.4", ...TrainArgs, "--batch", "16"]);
    expect(retargeted.code, retargeted.stderr).toBe(0);
    const lower = await ReadRunAsync(runs[0]);
    expect([lower.options.adaTarget, (lower.state.augment as { controller: { target: number } }).controller.target]).toEqual([0.4, 0.4]);
    const outOfRange = await RunCliAsync(["train", "--data", data, "--out", runs[0], "--resume", "--kimg", "0.12", "--ada-target", "1", ...TrainArgs]);
    expect([outOfRange.code, outOfRange.stderr.trim()]).toEqual([2, expect.stringContaining('--ada-target must be a number between 0 and 1 (exclusive), got "1"')]);
    // --labels naming the checkpoint's labels and then more grows the run's label columns (G and D unchanged for the
    // old labels: trainer/test/labelColumnGrowth.test.ts); any other set of labels is refused.
    const grown = join(dir, "grown");
    const growing = await RunCliAsync(["train", "--data", data, "--out", grown, "--resume-from", packed, "--kimg", "0.024", "--labels", "skin_tone,gender,glasses", "--engine", "ort", ...TrainArgs]);
    expect(growing.code, growing.stderr).toBe(0);
    const withGlasses = await ReadRunAsync(grown);
    expect(withGlasses.data.labelNames).toEqual([...original.data.labelNames, "glasses"]);
    expect(withGlasses.state.generator.get("mapping.embed.weight")!.length).toBe((original.data.labelNames.length + 1) * 32);
    const reordered = await RunCliAsync(["train", "--data", data, "--out", join(dir, "reordered"), "--resume-from", packed, "--kimg", "0.024", "--labels", "gender,skin_tone", ...TrainArgs]);
    expect([reordered.code, reordered.stderr.trim()]).toEqual([1, expect.stringMatching(/--resume-from .*: the data set's labels differ from the checkpoint's: a run can only gain label columns after its own/)]);
    // --preset naming the checkpoint's preset with more channels above 4x4 grows the run into it (G and D unchanged:
    // trainer/test/channelGrowth.test.ts); one with fewer is refused and writes nothing.
    const wider = join(dir, "wider");
    const widening = await RunCliAsync(["train", "--data", data, "--out", wider, "--resume-from", packed, "--kimg", "0.024", "--preset", "tinyfine", ...TrainArgs]);
    expect(widening.code, widening.stderr).toBe(0);
    const fine = await ReadRunAsync(wider);
    expect([fine.options.preset, fine.state.imagesSeen]).toEqual(["tinyfine", 24]);
    expect(fine.state.generator.get("synthesis.b16.conv1.weight")!.length).toBe(9 * 32 * 32);
    const kept = await readFile(join(wider, "checkpoint.ckpt"));
    const narrower = await RunCliAsync(["train", "--data", data, "--out", wider, "--resume", "--kimg", "0.032", "--preset", "tiny", ...TrainArgs]);
    expect([narrower.code, narrower.stderr.trim()]).toEqual([1, expect.stringMatching(/--resume: preset tinyfine cannot grow into tiny: it has fewer channels somewhere \(channels by resolution 4: 32, 8: 32, 16: 32 -> 4: 32, 8: 32, 16: 16\)/)]);
    expect((await readFile(join(wider, "checkpoint.ckpt"))).equals(kept)).toBe(true);
  }, Timeout);

  it("reports a bad packed file, a missing run and conflicting flags in one line and writes nothing", async () => {
    const bytes = await readFile(packed);
    const truncated = join(dir, "truncated.gz");
    await writeFile(truncated, bytes.subarray(0, bytes.length >> 1));
    const flipped = join(dir, "flipped.gz");
    const copy = Buffer.from(bytes);
    copy[copy.length >> 1] ^= 0x55;
    await writeFile(flipped, copy);
    const png = join(dir, "image.png");
    await sharp({ create: { width: 4, height: 4, channels: 3, background: "#808080" } }).png().toFile(png);
    const noCheckpoint = join(dir, "empty-run");
    await mkdir(noCheckpoint);
    const out = join(dir, "never");
    const cases: [string[], number, RegExp][] = [
      [["train", "--data", data, "--out", out, "--resume-from", truncated], 1, /checkpoint .*truncated\.gz: corrupted or truncated \(gzip: /],
      [["train", "--data", data, "--out", out, "--resume-from", flipped], 1, /checkpoint .*flipped\.gz: corrupted or truncated/],
      [["train", "--data", data, "--out", out, "--resume-from", png], 1, /checkpoint .*image\.png: not an npc-faces checkpoint/],
      [["train", "--data", data, "--out", out, "--resume-from", join(dir, "nothing.gz")], 1, /checkpoint .*nothing\.gz: no such file/],
      [["train", "--data", data, "--out", out, "--resume-from", packed, "--resume"], 2, /option '--resume-from <file>' cannot be used with option '--resume'/],
      [["checkpoint", "info", truncated], 1, /checkpoint .*truncated\.gz: corrupted or truncated/],
      [["checkpoint", "pack", "--run", join(dir, "no-run"), "--out", join(out, "p.gz")], 1, /--run .*no-run: no such folder/],
      [["checkpoint", "pack", "--run", noCheckpoint, "--out", join(out, "p.gz")], 1, /--run .*empty-run: no checkpoint\.ckpt/],
      [["checkpoint", "pack", "--run", join(dir, "first"), "--out", join(dir, "first", "checkpoint.ckpt")], 2, /that is the run's own checkpoint/],
    ];
    const results = await MapLimitAsync(cases, 3, ([args]) => RunCliAsync(args));
    cases.forEach(([args, code, message], i) => {
      expect(results[i].code, `${args.join(" ")}: ${results[i].stderr}`).toBe(code);
      expect(results[i].stderr).toMatch(message);
      expect(results[i].stderr.trim().split("\n")).toHaveLength(1);
    });
    expect(existsSync(out)).toBe(false);
    expect((await readFile(packed)).equals(bytes)).toBe(true);
  }, Timeout);
});
