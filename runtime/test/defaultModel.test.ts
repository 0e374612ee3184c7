/**
 * The bundled default model (`@npc-faces/default-model`): the package points at a real file, the runtime loads it
 * without a path, its metadata is what the docs promise, and its faces are pinned by a golden file.
 *
 * Golden: defaultModel.golden.json holds the model file's SHA-256 and the SHA-256 of the RGBA bytes of a few faces
 * (onnxruntime-node, the runtime's default session options). After replacing models/default.onnx, regenerate it:
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
import type { FaceGenerator, FaceRequest } from "@npc-faces/runtime";
import { DefaultModelPath, DefaultModelUrl, LoadDefaultFaceGeneratorAsync } from "@npc-faces/runtime/node";
import { DefaultModelUrl as WebDefaultModelUrl } from "@npc-faces/runtime/web";

const GoldenFile = fileURLToPath(new URL("./defaultModel.golden.json", import.meta.url));
const Update = process.env.UPDATE_GOLDEN === "1";

/** What the shipped model promises (docs, README): fixed by the export, not by training. */
const ExpectedName = "npc64-default";
const LabelControls = ["label_skin_tone", "label_hair_lightness", "label_facial_hair", "label_glasses", "label_hat", "label_gender_male", "label_gender_female"];
const SefaControls = ["direction_0", "direction_1", "direction_2", "direction_3"];

/** The pinned faces: seeds 0..3 at the model's defaults, and one with psi and controls set. */
const Requests: Record<string, FaceRequest> = {
  "seed 0": { seed: 0 },
  "seed 1": { seed: 1 },
  "seed 2": { seed: 2 },
  "seed 3": { seed: 3 },
  "seed 42, psi 0.5, label_skin_tone 1, label_glasses 1, direction_0 -1.5": {
    seed: 42,
    psi: 0.5,
    controls: { label_skin_tone: 1, label_glasses: 1, direction_0: -1.5 },
  },
};

interface Golden {
  readonly comment: string;
  readonly model: { readonly sha256: string; readonly name: string };
  /** Request label -> SHA-256 of the face's RGBA8 bytes. */
  readonly faces: Record<string, string>;
}

const Sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

let generator: FaceGenerator;
let fileBytes: Uint8Array;

beforeAll(async () => {
  fileBytes = new Uint8Array(await readFile(DefaultModelPath()));
  generator = await LoadDefaultFaceGeneratorAsync();
});
afterAll(async () => {
  await generator?.disposeAsync();
});

describe("@npc-faces/default-model", () => {
  it("points at default.onnx next to its module, the same file through the package, runtime/node and runtime/web", async () => {
    const models = fileURLToPath(new URL("../../models/", import.meta.url));
    expect(DefaultModelPath()).toBe(join(models, "default.onnx"));
    expect(DefaultModelPackage.DefaultModelPath()).toBe(DefaultModelPath());
    expect(DefaultModelUrl).toBe(DefaultModelPackage.DefaultModelUrl);
    expect(WebDefaultModelUrl).toBe(DefaultModelPackage.DefaultModelUrl);
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
    expect(Object.keys(files).filter((f) => !["default.onnx", "index.js", "index.d.ts", "package.json", "README.md"].includes(f))).toEqual([]);
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
    for (const control of m.controls) expect(control.min, control.name).toBeLessThan(control.max);
  });

  it("generates the golden faces, bit-identically in one batch and one at a time", async () => {
    const labels = Object.keys(Requests);
    const batch = await generator.generateAsync(labels.map((label) => Requests[label]));
    const faces: Record<string, string> = {};
    for (const [i, label] of labels.entries()) {
      expect(batch[i].width, label).toBe(64);
      expect(batch[i].data.length, label).toBe(64 * 64 * 4);
      faces[label] = Sha256(batch[i].data);
      const [alone] = await generator.generateAsync([Requests[label]]);
      expect(Sha256(alone.data), `${label}: alone vs in a batch`).toBe(faces[label]);
    }
    // Distinct requests give distinct faces (a model that ignored its inputs would pass the rest after an update).
    expect(new Set(Object.values(faces)).size).toBe(labels.length);

    const golden: Golden = {
      comment: "Golden faces of models/default.onnx (onnxruntime-node, default session options). Regenerate after replacing the model: UPDATE_GOLDEN=1 npx vitest run runtime/test/defaultModel.test.ts",
      model: { sha256: generator.modelHash, name: generator.metadata.name },
      faces,
    };
    if (Update) {
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
});
