/**
 * The bundled default model (`@npc-faces/default-model`): the package points at a real file, the runtime loads it
 * without a path, its metadata is what the docs promise, and its faces are pinned by a golden file.
 *
 * Golden: defaultModel.golden.json holds the model file's SHA-256 and the SHA-256 of the RGBA bytes of seeds 0-63
 * and of parameter variations, computed by the CANONICAL engine (onnxruntime-web's WASM build, in Node): those bytes
 * are the same on every CPU, so the check is bit-exact on any machine. The native engine (onnxruntime-node) is
 * checked against the canonical bytes with the documented bound, never against a golden of its own. After replacing
 * models/default.onnx, regenerate it (refused unless the engine is the canonical one):
 *   UPDATE_GOLDEN=1 npx vitest run runtime/test/defaultModel.test.ts
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as DefaultModelPackage from "@npc-faces/default-model";
import type { FaceGenerator, FaceImage, FaceRequest } from "@npc-faces/runtime";
import { DefaultModelPath, DefaultModelUrl, LoadDefaultFaceGeneratorAsync } from "@npc-faces/runtime/node";

const GoldenFile = fileURLToPath(new URL("./defaultModel.golden.json", import.meta.url));
const Update = process.env.UPDATE_GOLDEN === "1";

/** What the shipped model promises (docs, README): fixed by the export, not by training. */
const ExpectedName = "npc64-default";
const LabelControls = ["label_skin_tone", "label_hair_lightness", "label_facial_hair", "label_glasses", "label_hat", "label_gender_male", "label_gender_female"];
/** The categorical attributes it draws per seed and a request can set, with their number of values. */
const CategoricalAttributes = { gender: 2, eyes: 35, mouth: 17, hair_style: 51, accessory: 8 };
const SefaControls = ["direction_0", "direction_1", "direction_2", "direction_3"];

/** The pinned faces: seeds 0..63 at the model's defaults, and variations of every request parameter. */
const Requests: Record<string, FaceRequest> = {
  ...Object.fromEntries(Array.from({ length: 64 }, (_, seed) => [`seed ${seed}`, { seed }])),
  "seed 42, psi 0.5, label_skin_tone 1, label_glasses 1, direction_0 -1.5": {
    seed: 42,
    psi: 0.5,
    controls: { label_skin_tone: 1, label_glasses: 1, direction_0: -1.5 },
  },
  "seed 7, psi 1, noise 0": { seed: 7, psi: 1, noiseStrength: 0 },
  "seed 7, noise 2": { seed: 7, noiseStrength: 2 },
  "seed 9 mixed with 4000000000 at 0.6 from layer 4": { seed: 9, mixSeed: 4_000_000_000, mix: 0.6, mixCrossover: 4 },
  "seed 4294967295, direction_3 3 (extrapolated)": { seed: 4_294_967_295, controls: { direction_3: 3 } },
  "seed 5, label_hat 1, label_gender_female 0": { seed: 5, controls: { label_hat: 1, label_gender_female: 0 } },
  "seed 3, eyes female12, mouth smile, hair_style longHair": { seed: 3, labels: { eyes: "female12", mouth: "smile", hair_style: "longHair" } },
  "seed 11, label_eyes_eye5 1, label_hair_style_afro 0.5": { seed: 11, controls: { label_eyes_eye5: 1, label_hair_style_afro: 0.5 } },
};

/**
 * How far the native engine (onnxruntime-node) may stray from the canonical bytes, over all the golden requests:
 * at most 1 level of 255 per byte, on at most 0.1% of the bytes. Measured with today's model (npc64fine, G_ema
 * averaged over 968-1024 kimg): 29 of 1,179,648 bytes (2.5e-5), in 24 of the 72 requests, on a 2-core Intel Xeon with AVX-512 (npc64wide at 888 kimg:
 * 31, on a 2-core AMD EPYC with AVX-512); with 0.1's npc64, 35 of
 * 1,048,576 over seeds 0-63 on an AMD EPYC without AVX-512 (docs/seeds.md).
 */
const NativeBound = { maxAbs: 1, maxFraction: 0.001 } as const;

interface Golden {
  readonly comment: string;
  /** The engine that computed the faces (always the canonical one). */
  readonly engine: string;
  readonly model: { readonly sha256: string; readonly name: string };
  /** Request label -> SHA-256 of the face's RGBA8 bytes. */
  readonly faces: Record<string, string>;
}

const Sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

let generator: FaceGenerator;
let fileBytes: Uint8Array;
/** The canonical faces of {@link Requests}, in key order (filled by the golden test, read by the native one). */
let canonicalFaces: FaceImage[] | undefined;

beforeAll(async () => {
  fileBytes = new Uint8Array(await readFile(DefaultModelPath()));
  generator = await LoadDefaultFaceGeneratorAsync();
});
afterAll(async () => {
  await generator?.disposeAsync();
});

describe("@npc-faces/default-model", () => {
  it("points at default.onnx next to its module, the same file through the package and runtime/node", async () => {
    const models = fileURLToPath(new URL("../../models/", import.meta.url));
    expect(DefaultModelPath()).toBe(join(models, "default.onnx"));
    expect(DefaultModelPackage.DefaultModelPath()).toBe(DefaultModelPath());
    expect(DefaultModelUrl).toBe(DefaultModelPackage.DefaultModelUrl);
    expect(DefaultModelUrl.href).toMatch(/^file:\/\/.*\/models\/default\.onnx$/);
  });

  it("packs the model, the module and its types (npm pack --dry-run)", async () => {
    const models = fileURLToPath(new URL("../../models/", import.meta.url));
    const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: models });
    const [pack] = JSON.parse(stdout) as { name: string; files: { path: string; size: number }[] }[];
    expect(pack.name).toBe("@npc-faces/default-model");
    const files = Object.fromEntries(pack.files.map((f) => [f.path, f.size]));
    expect(files["default.onnx"]).toBe(fileBytes.length);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(["index.js", "index.d.ts", "package.json"]));
    expect(Object.keys(files).filter((f) => !["default.onnx", "index.js", "index.d.ts", "package.json", "README.md", "LICENSE"].includes(f))).toEqual([]);
  });
});

describe("the bundled default model", () => {
  it("loads without a path and has the documented metadata", () => {
    const m = generator.metadata;
    expect(generator.modelHash).toBe(Sha256(fileBytes));
    expect(m.name).toBe(ExpectedName);
    expect(m.resolution).toBe(64);
    expect(m.provenance.trained).toBe(true);
    expect(m.provenance.kimg).toBeGreaterThan(0);
    const names = m.controls.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining([...LabelControls, ...SefaControls]));
    // Every eye, mouth, hair style and accessory is a label a request can set and a control (one per value).
    for (const [attribute, count] of Object.entries(CategoricalAttributes)) {
      const label = m.labels.find((l) => l.name === attribute);
      expect(label?.values, attribute).toHaveLength(count);
      expect(m.controls.filter((c) => c.kind === "label" && c.label.startsWith(`${attribute}=`)), attribute).toHaveLength(count);
    }
    for (const control of m.controls) expect(control.min, control.name).toBeLessThan(control.max);
  });

  it("loads on the canonical engine by default, with its integrity digest verified", () => {
    expect(generator.canonical).toBe(true);
    expect(generator.backendName).toMatch(/^onnxruntime-web\/wasm/);
    expect(generator.integrity).toBe("verified");
  });

  it("generates the golden faces on the canonical engine, bit for bit, in batches and one at a time", async () => {
    const labels = Object.keys(Requests);
    const batch = await generator.generateAsync(labels.map((label) => Requests[label]));
    canonicalFaces = batch;
    const faces: Record<string, string> = {};
    for (const [i, label] of labels.entries()) {
      expect(batch[i].width, label).toBe(64);
      expect(batch[i].data.length, label).toBe(64 * 64 * 4);
      faces[label] = Sha256(batch[i].data);
    }
    // The batch size does not change a face: a few alone, and all in batches of 3.
    for (const label of ["seed 0", "seed 63", labels[labels.length - 1]]) {
      const [alone] = await generator.generateAsync([Requests[label]]);
      expect(Sha256(alone.data), `${label}: alone vs in a batch`).toBe(faces[label]);
    }
    for (let i = 0; i < labels.length; i += 3) {
      const three = await generator.generateAsync(labels.slice(i, i + 3).map((label) => Requests[label]));
      three.forEach((face, j) => expect(Sha256(face.data), `${labels[i + j]}: in a batch of 3`).toBe(faces[labels[i + j]]));
    }
    // Distinct requests give distinct faces (a model that ignored its inputs would pass the rest after an update).
    expect(new Set(Object.values(faces)).size).toBe(labels.length);

    const golden: Golden = {
      comment: "Golden faces of models/default.onnx on the canonical engine (onnxruntime-web WASM): bit-exact on every machine. Regenerate after replacing the model: UPDATE_GOLDEN=1 npx vitest run runtime/test/defaultModel.test.ts",
      engine: generator.backendName,
      model: { sha256: generator.modelHash, name: generator.metadata.name },
      faces,
    };
    if (Update) {
      if (!generator.canonical) throw new Error(`refusing to write canonical goldens from ${generator.backendName}: only onnxruntime-web's WASM engine defines a face's exact bytes`);
      await writeFile(GoldenFile, `${JSON.stringify(golden, null, 2)}\n`);
      console.log(`wrote ${GoldenFile} (model sha256 ${generator.modelHash.slice(0, 12)})`);
      return;
    }
    const stored = JSON.parse(await readFile(GoldenFile, "utf8")) as Golden;
    expect(
      stored.model.sha256,
      "models/default.onnx is not the model defaultModel.golden.json was made from; if it was replaced on purpose: UPDATE_GOLDEN=1 npx vitest run runtime/test/defaultModel.test.ts",
    ).toBe(generator.modelHash);
    expect(faces).toEqual(stored.faces);
  });

  it("on the native engine (onnxruntime-node) stays within the documented bound of the canonical faces", async () => {
    expect(canonicalFaces, "the canonical golden test runs first").toBeDefined();
    const native = await LoadDefaultFaceGeneratorAsync({ engine: "native" });
    try {
      expect(native.canonical).toBe(false);
      const labels = Object.keys(Requests);
      const faces = await native.generateAsync(labels.map((label) => Requests[label]));
      let differing = 0;
      let total = 0;
      let maxAbs = 0;
      const facesDiffering: string[] = [];
      faces.forEach((face, i) => {
        const reference = canonicalFaces![i].data;
        let here = 0;
        for (let j = 0; j < reference.length; j++) {
          const d = Math.abs(face.data[j] - reference[j]);
          if (d > 0) here++;
          maxAbs = Math.max(maxAbs, d);
        }
        total += reference.length;
        differing += here;
        if (here > 0) facesDiffering.push(labels[i]);
      });
      const summary = `native vs canonical: max |diff| ${maxAbs}, ${differing} of ${total} bytes (${((differing / total) * 100).toFixed(4)}%) in ${facesDiffering.length} of ${faces.length} faces`;
      console.log(`[default model] ${summary}`);
      expect(maxAbs, summary).toBeLessThanOrEqual(NativeBound.maxAbs);
      expect(differing / total, summary).toBeLessThanOrEqual(NativeBound.maxFraction);
    } finally {
      await native.disposeAsync();
    }
  });
});
