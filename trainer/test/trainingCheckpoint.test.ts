/**
 * Checkpoints: resume continues bit-identically (N steps straight = N/2, checkpoint file, resume, N/2 on wasm),
 * the compact and packed forms keep what a resume needs, SIGKILL during a checkpoint write leaves the previous checkpoint loadable, corruption is detected, a
 * non-finite loss stops training with a clear error.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { PackCheckpoint, ReadCheckpointAsync, SerializeCheckpoint, WriteCheckpointAsync, ParseCheckpoint } from "../src/training/checkpoint.js";
import { TrainingDivergedError, TrainingRun } from "../src/training/trainingLoop.js";
import { ResolveTrainingOptions } from "../src/training/trainingOptions.js";
import { SolidColourData } from "./trainingTestData.js";

function Same(a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || !Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(w.buffer, w.byteOffset, w.byteLength))) return false;
  }
  return true;
}

describe("checkpoints", () => {
  it("resume is bit-identical: 4 steps straight = 2 steps, checkpoint, resume, 2 steps", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const dir = await mkdtemp(join(tmpdir(), "npcf-ckpt-"));
    // r1Interval 2: both halves include an R1 step and its rescaled Adam.
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 2, aug: "none", seed: 5, r1Interval: 2 });
    const data = SolidColourData();
    const straight = new TrainingRun(options, data);
    for (let i = 0; i < 4; i++) straight.trainStep();
    const expected = straight.snapshot();
    straight.dispose();

    const first = new TrainingRun(options, data);
    for (let i = 0; i < 2; i++) first.trainStep();
    const path = join(dir, "checkpoint.ckpt");
    await WriteCheckpointAsync(path, { options, data: { id: null, resolution: 16, labelNames: [] }, state: first.snapshot() });
    first.dispose();
    const loaded = await ReadCheckpointAsync(path);
    const resumed = new TrainingRun(loaded.options, data, null, loaded.state);
    for (let i = 0; i < 2; i++) resumed.trainStep();
    const got = resumed.snapshot();
    resumed.dispose();
    expect(got.imagesSeen).toBe(expected.imagesSeen);
    expect(got.random).toEqual(expected.random);
    expect(Same(got.generator, expected.generator)).toBe(true);
    expect(Same(got.generatorEma, expected.generatorEma)).toBe(true);
    expect(Same(got.discriminator, expected.discriminator)).toBe(true);
    expect(got.adamD.m.every((m, i) => Same(new Map([["x", m]]), new Map([["x", expected.adamD.m[i]]])))).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });

  it("detects corruption and truncation with a clear message; compact fp16 form round-trips", async () => {
    const options = ResolveTrainingOptions({ preset: "tiny" });
    const state = {
      imagesSeen: 8, step: 1, plMean: 0, random: { "0": 3 }, augment: null,
      generator: new Map([["a", new Float32Array([1, 2.5, -3])]]), generatorEma: new Map(), discriminator: new Map(),
      adamG: { step: 1, m: [new Float32Array([0.5])], v: [new Float32Array([0.25])] }, adamD: { step: 0, m: [], v: [] },
    };
    const bytes = SerializeCheckpoint({ options, data: { id: "x", resolution: 16, labelNames: [] }, state });
    expect(ParseCheckpoint(bytes).state.generator.get("a")).toEqual(new Float32Array([1, 2.5, -3]));
    const flipped = bytes.slice();
    flipped[bytes.length - 40] ^= 1;
    expect(() => ParseCheckpoint(flipped, "run/x.ckpt")).toThrow(/checkpoint run\/x.ckpt: corrupted or truncated/);
    expect(() => ParseCheckpoint(bytes.subarray(0, 100), "t")).toThrow(/corrupted or truncated/);
    expect(() => ParseCheckpoint(new TextEncoder().encode("hello world, this is not a checkpoint at all......"), "t")).toThrow(/not an npc-faces checkpoint/);
    const compact = SerializeCheckpoint({ options, data: { id: "x", resolution: 16, labelNames: [] }, state }, { compact: true });
    expect(compact.length).toBeLessThan(bytes.length);
    expect(ParseCheckpoint(compact).state.adamG.v[0]).toEqual(new Float32Array([0.25]));
  });

  it("compact form keeps Adam's tiny second moments (bfloat16), zeroes the unused first moment, refuses fp16 overflow; packed form is gzip with the log", () => {
    const options = ResolveTrainingOptions({ preset: "tiny" }); // beta1 0
    const v = new Float32Array([1e-12, 3e-9, 2.5e-5, 0.7, 0]);
    const state = {
      imagesSeen: 8, step: 1, plMean: 0, random: { "0": 3 }, augment: null,
      generator: new Map([["a", new Float32Array([1, 2.5, -3, 1e-3])]]), generatorEma: new Map(), discriminator: new Map([["d", new Float32Array([0.1])]]),
      adamG: { step: 1, m: [new Float32Array([0.5, -2e-6, 0, 0, 0])], v: [v] }, adamD: { step: 1, m: [new Float32Array([1])], v: [new Float32Array([4])] },
    };
    const contents = { options, data: { id: "x", resolution: 16, labelNames: [] }, state };
    const compact = ParseCheckpoint(SerializeCheckpoint(contents, { compact: true }));
    const back = compact.state.adamG.v[0];
    // fp16 would flush 1e-12 and 3e-9 to 0 (a resumed Adam step of up to 10x); bfloat16 keeps 2-3 digits.
    for (let i = 0; i < v.length; i++) expect(Math.abs(back[i] - v[i])).toBeLessThanOrEqual(Math.abs(v[i]) / 256);
    expect(back[0]).toBeGreaterThan(0);
    expect(compact.state.adamG.m[0]).toEqual(new Float32Array(5)); // beta1 = 0: m is never read
    expect(compact.state.generator.get("a")![3]).toBeCloseTo(1e-3, 6);
    expect(compact.stored).toMatchObject({ gzip: false, formatVersion: 2, types: ["float16", "bfloat16"] });
    const withBeta1 = ParseCheckpoint(SerializeCheckpoint({ ...contents, options: { ...options, beta1: 0.9 } }, { compact: true }));
    expect(withBeta1.state.adamG.m[0][1]).toBeCloseTo(-2e-6, 8);
    expect(ParseCheckpoint(SerializeCheckpoint(contents)).stored).toMatchObject({ formatVersion: 1, types: ["float32"] });
    const huge = { ...contents, state: { ...state, generator: new Map([["a", new Float32Array([1e5])]]) } };
    expect(() => SerializeCheckpoint(huge, { compact: true })).toThrow(/G\/a\[0\] = 100000 does not fit in float16/);

    const packed = PackCheckpoint(contents, '{"tick":1,"kimg":0.008}\n');
    expect([packed[0], packed[1]]).toEqual([0x1f, 0x8b]);
    const unpacked = ParseCheckpoint(packed, "p.gz");
    expect(unpacked.extra?.log).toBe('{"tick":1,"kimg":0.008}\n');
    expect(unpacked.stored?.gzip).toBe(true);
    expect(unpacked.state.discriminator.get("d")![0]).toBeCloseTo(0.1, 3);
    expect(() => ParseCheckpoint(packed.subarray(0, packed.length - 10), "p.gz")).toThrow(/checkpoint p.gz: corrupted or truncated \(gzip: /);
  });

  it("SIGKILL during a checkpoint write leaves the previous checkpoint loadable", async () => {
    const dir = await mkdtemp(join(tmpdir(), "npcf-kill-"));
    const path = join(dir, "checkpoint.ckpt");
    const options = ResolveTrainingOptions({ preset: "tiny" });
    const header = { options, data: { id: null, resolution: 16, labelNames: [] }, state: { imagesSeen: 1, step: 1, plMean: 0, random: {}, augment: null } };
    const child = spawn(process.execPath, [fileURLToPath(new URL("./fixtures/checkpointWriterChild.mjs", import.meta.url)), path, JSON.stringify(header)], { stdio: ["ignore", "pipe", "inherit"] });
    // The child holds checkpoint B's write after 4 MiB and says so: the kill lands mid-write, every time.
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()).includes("B partly written\n") && resolve());
      child.on("exit", (code) => reject(new Error(`writer exited early (${code}); is trainer/dist built? (npx tsc -b trainer)`)));
    });
    const temp = (await readdir(dir)).find((f) => f.includes(".tmp-"));
    expect((await stat(join(dir, temp!))).size).toBe(4 << 20);
    // Listen before killing, and accept an exit that already happened: 'exit' is not emitted twice.
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    expect(child.signalCode, "the writer was still holding its write when killed").toBe("SIGKILL");
    const loaded = await ReadCheckpointAsync(path);
    expect(loaded.state.generator.get("w")).toEqual(new Float32Array(16).fill(1));
    await rm(dir, { recursive: true, force: true });
  });

  it("a non-finite loss stops training with a clear error", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const run = new TrainingRun(ResolveTrainingOptions({ preset: "tiny", batch: 2, aug: "none" }), SolidColourData());
    const v = run.G.variables.get("synthesis.b16.torgb.bias")!;
    v.assign(tf.fill(v.shape, NaN));
    expect(() => run.trainStep()).toThrow(TrainingDivergedError);
    expect(() => run.trainStep()).toThrow(/training diverged: the generator loss is not finite/);
    run.dispose();
  });
});
