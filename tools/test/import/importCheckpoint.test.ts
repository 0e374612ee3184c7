/**
 * `npc-faces import` on fixtures in NVIDIA's and rosinality's own layouts (tools/scripts/makeImportFixtures.py wrote
 * them with the upstream code and random weights): the imported graph reproduces the upstream generator's outputs
 * (stored as numbers) to 1e-4 relative error in both noise modes; hostile, discriminator-only and unknown files are
 * refused with one line; provenance, licence and SeFa controls are recorded; the runtime loads and runs the result.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { FaceGenerator, ReadModelFile } from "@npc-faces/runtime";
import { CreateEngineBackendAsync } from "@npc-faces/runtime/node";
import { ImportCheckpointAsync, KimgFromFileName } from "../../src/import/importCheckpoint.js";

const FixtureDir = fileURLToPath(new URL("./fixtures/", import.meta.url));
const Fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(`${FixtureDir}${name}`));

/** Reference outputs of the upstream generators (float32 values as decimals). */
interface Reference {
  readonly file: string;
  readonly resolution: number;
  readonly psi: number;
  readonly z: number[];
  readonly c: number[];
  readonly shape: number[];
  readonly image: number[];
}

/** The parity bound of the issue: max |onnx - reference| / max |reference| over the image, float32. */
const MaxRelativeError = 1e-4;

async function RunImported(bytes: Uint8Array, reference: Reference, noiseMaps: Float32Array[] | undefined): Promise<Float32Array> {
  const { metadata } = ReadModelFile(bytes, "imported");
  const session = await ort.InferenceSession.create(bytes);
  const n = reference.shape[0];
  const tensor = (data: ArrayLike<number>, dims: number[]) => new ort.Tensor("float32", Float32Array.from(data), dims);
  const repeat = (values: ArrayLike<number>, times: number): number[] => Array.from({ length: times }, () => Array.from(values)).flat();
  const feeds: Record<string, ort.Tensor> = {
    z: tensor(reference.z, [n, metadata.zDim]),
    z_mix: tensor(reference.z, [n, metadata.zDim]),
    mix: tensor(new Array(n * metadata.numWs).fill(0), [n, metadata.numWs]),
    psi: tensor(new Array(n).fill(reference.psi), [n, 1]),
    noise_strength: tensor(new Array(n).fill(1), [n, 1]),
  };
  if (metadata.controls.length > 0) feeds.controls = tensor(new Array(n * metadata.controls.length).fill(0), [n, metadata.controls.length]);
  if (metadata.labelDim > 0) feeds.label = tensor(reference.c, [n, metadata.labelDim]);
  metadata.noiseResolutions.forEach((r, i) => {
    feeds[`noise${i}`] = tensor(repeat(noiseMaps![i], n), [n, 1, r, r]);
  });
  const out = await session.run(feeds);
  await session.release();
  return out.image.data as Float32Array;
}

function RelativeError(actual: Float32Array, expected: readonly number[]): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / maxRef;
}

const ParityCases = [
  // fixture, what it covers
  ["nvidia-skip-64", "NVIDIA skip, conv_clamp 256, fp16 blocks, D in the pickle, 64 px"],
  ["nvidia-cond-clamp-32", "NVIDIA conditional (3 classes), conv_clamp 0.5 (clamps), 3 mapping layers"],
  ["nvidia-resnet-32", "NVIDIA resnet, 1 mapping layer"],
  ["nvidia-orig-16", "NVIDIA orig"],
  ["rosinality-64", "rosinality, latent_avg recorded"],
  ["rosinality-noavg-16", "rosinality without latent_avg (psi 1)"],
  ["rosinality-legacy-16", "rosinality saved in torch's legacy (pre-1.6) format"],
] as const;

describe("npc-faces import: parity with the upstream generators", () => {
  for (const [name, covers] of ParityCases) {
    it(`${name} (${covers}) matches in both noise modes`, async () => {
      const reference = JSON.parse(readFileSync(`${FixtureDir}${name}.reference.json`, "utf8")) as Reference;
      const bytes = Fixture(reference.file);
      const constant = await ImportCheckpointAsync({ bytes, fileName: reference.file, licence: "test licence", noise: "constant", controls: 2 });
      expect(constant.generator.config.resolution).toBe(reference.resolution);
      const constantError = RelativeError(await RunImported(constant.bytes, reference, undefined), reference.image);
      // Seeded noise fed with the file's own maps must give the same faces.
      const maps = [...constant.generator.weights].filter(([key]) => key.endsWith(".noise_const")).map(([, v]) => v);
      const seeded = await ImportCheckpointAsync({ bytes, fileName: reference.file, licence: "test licence", controls: 2 });
      const seededError = RelativeError(await RunImported(seeded.bytes, reference, maps), reference.image);
      expect(constantError).toBeLessThan(MaxRelativeError);
      expect(seededError).toBeLessThan(MaxRelativeError);
    });
  }
});

describe("npc-faces import: refusals (one line, nothing executed)", () => {
  const refuse = async (file: string, pattern: RegExp) => {
    const error = await ImportCheckpointAsync({ bytes: Fixture(file), fileName: file, licence: "x" }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(pattern);
    expect(error?.message).not.toContain("\n");
  };
  it("refuses a pickle that would run os.system", () => refuse("hostile-os-system.pkl", /refused global "posix\.system"/));
  it("refuses a torch.save checkpoint that would run os.system", () => refuse("hostile-os-system.pt", /refused global "posix\.system"/));
  it("refuses a discriminator-only NVIDIA pickle", () => refuse("nvidia-discriminator-only.pkl", /discriminator-only pickle \(no G_ema; entries: D\)/));
  it("refuses a discriminator-only rosinality checkpoint", () => refuse("rosinality-discriminator-only.pt", /discriminator-only checkpoint/));
  it("refuses a G_ema of an unknown class", () => refuse("nvidia-wrong-class.pkl", /unknown class "Discriminator"/));
  it("refuses files that are not PyTorch StyleGAN2 files", async () => {
    await expect(ImportCheckpointAsync({ bytes: new TextEncoder().encode("{}"), fileName: "a.json", licence: "x" })).rejects.toThrow(/not a PyTorch StyleGAN2 file/);
    const truncated = Fixture("nvidia-orig-16.pkl").subarray(0, 5000);
    await expect(ImportCheckpointAsync({ bytes: truncated, fileName: "cut.pkl", licence: "x" })).rejects.toThrow(/truncated/);
  });
  it("requires a licence", async () => {
    await expect(ImportCheckpointAsync({ bytes: Fixture("nvidia-orig-16.pkl"), fileName: "nvidia-orig-16.pkl", licence: " " })).rejects.toThrow(/licence/);
  });
});

describe("npc-faces import: metadata", () => {
  it("records provenance, licence, kimg, hash and SeFa controls", async () => {
    const file = "network-snapshot-000120.pkl";
    const result = await ImportCheckpointAsync({ bytes: Fixture(file), fileName: file, licence: "CC BY 4.0 (test)", credits: ["the trainers"], controls: 3 });
    const { metadata } = ReadModelFile(result.bytes, "imported");
    expect(metadata.provenance.licenses).toEqual(["CC BY 4.0 (test)"]);
    expect(metadata.provenance.credits).toEqual(["the trainers"]);
    expect(metadata.provenance.kimg).toBe(120);
    expect(metadata.provenance.dataset).toBe("faces.zip");
    expect(metadata.provenance.imported).toMatchObject({ format: "nvidia-pkl", file, generator: "G_ema", resolution: 64, kimg: 120 });
    expect(metadata.provenance.imported?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(metadata.controls.map((c) => [c.name, c.kind])).toEqual([["direction_0", "sefa"], ["direction_1", "sefa"], ["direction_2", "sefa"]]);
    expect(metadata.architecture).toMatchObject({ resampling: "zeroPad", upsampleConv: "transposedConv", convClamp: 256, synthesis: "skip", noise: "seeded" });
    expect(metadata.noiseResolutions).toEqual([4, 8, 8, 16, 16, 32, 32, 64, 64]);
    expect(KimgFromFileName("x/network-snapshot-001200.pkl")).toBe(1200);
    expect(KimgFromFileName("ffhq.pkl")).toBeUndefined();
  });

  it("gives conditional models a one-hot class attribute, and constant-noise models no noise inputs", async () => {
    const result = await ImportCheckpointAsync({ bytes: Fixture("nvidia-cond-clamp-32.pkl"), fileName: "nvidia-cond-clamp-32.pkl", licence: "x", noise: "constant" });
    const { metadata } = ReadModelFile(result.bytes, "imported");
    expect(metadata.labelDim).toBe(3);
    expect(metadata.labels).toEqual([{ name: "class", offset: 0, values: ["class_0", "class_1", "class_2"], default: [1 / 3, 1 / 3, 1 / 3], sampling: "onehot" }]);
    expect(metadata.noise).toBe("constant");
    expect(metadata.noiseResolutions).toEqual([]);
  });
});

describe("npc-faces import: the runtime runs imported models", () => {
  for (const [file, noise] of [
    ["network-snapshot-000120.pkl", "seeded"],
    ["rosinality-64.pt", "constant"],
  ] as const) {
    it(`${file} with ${noise} noise on both engines, deterministic per seed`, async () => {
      const { bytes } = await ImportCheckpointAsync({ bytes: Fixture(file), fileName: file, licence: "x", noise });
      for (const engine of ["canonical", "native"] as const) {
        const generator = await FaceGenerator.loadAsync(bytes, { backend: await CreateEngineBackendAsync(engine), source: file });
        const [a, b, again] = await generator.generateAsync([{ seed: 1 }, { seed: 2 }, { seed: 1 }]);
        expect(a.data.length).toBe(64 * 64 * 4);
        expect(Buffer.from(a.data).equals(Buffer.from(again.data))).toBe(true);
        expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(false);
        await generator.disposeAsync();
      }
    });
  }
});
