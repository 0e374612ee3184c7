/**
 * The two checks end to end on a real (small) facesjs data set and a real, untrained conditional model on
 * onnxruntime: the probes must measure real faces' attributes on held-out images; the memorisation check
 * must find a training image's own copy at distance 0 and held-out images at clearly positive distances.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoadFaceGeneratorFileAsync } from "@npc-faces/runtime/node";
import type { FaceGenerator, FaceImage, FaceRequest } from "@npc-faces/runtime";
import { OpenDatasetAsync, type OpenedDataset } from "../../src/dataset/packedDataset.js";
import { CheckControlDirectionsAsync } from "../../src/evaluation/controlDirectionCheck.js";
import { FindNearestTrainingImagesAsync } from "../../src/evaluation/memorisationCheck.js";
import { MakeTempDirAsync } from "../dataset/datasetTestUtils.js";
import { BuildFacesjsDatasetAsync, WriteTinyLabelModelAsync } from "./evaluationTestData.js";

let temp: Awaited<ReturnType<typeof MakeTempDirAsync>>;
let dataset: OpenedDataset;
let generator: FaceGenerator;
const modelPath = () => join(temp.dir, "tiny-label.onnx");

beforeAll(async () => {
  temp = await MakeTempDirAsync("npc-faces-evaluation-");
  await BuildFacesjsDatasetAsync(join(temp.dir, "data"), 400);
  await WriteTinyLabelModelAsync(modelPath());
  dataset = await OpenDatasetAsync(join(temp.dir, "data"));
  generator = await LoadFaceGeneratorFileAsync(modelPath());
}, 600_000);
afterAll(async () => {
  await generator?.disposeAsync();
  await dataset?.CloseAsync();
  await temp?.cleanupAsync();
});

describe("control-direction check", () => {
  it("fits probes that measure skin tone and gender on held-out faces, and reports every label control", async () => {
    const report = await CheckControlDirectionsAsync({ generator, dataset, seeds: [0, 1, 2, 3] });
    expect(report.scoring).toEqual({ split: "holdout", count: 40 });
    expect(report.probeImages).toBe(360);
    expect(report.featureRes).toBe(16);
    expect(report.controls.map((c) => c.control)).toEqual(["label_skin_tone", "label_glasses", "label_gender_male", "label_gender_female"]);
    const row = (name: string) => report.controls.find((c) => c.control === name)!;
    expect(row("label_skin_tone").probe.r).toBeGreaterThan(0.8);
    expect(row("label_gender_male").probe.binary).toBe(true);
    expect(row("label_gender_male").probe.accuracy!).toBeGreaterThan(row("label_gender_male").probe.baseline!);
    // Direct measurements for skin tone and glasses; the cheeks agree closely with skin tone on real faces.
    const agreement = Object.fromEntries(report.directQuality.map((d) => [d.column, d.r]));
    expect(Object.keys(agreement).sort()).toEqual(["glasses", "skin_tone"]);
    expect(agreement.skin_tone).toBeGreaterThan(0.99);
    expect(row("label_skin_tone").direct).toMatchObject({ measure: "cheek lightness", movement: { seeds: 4 } });
    expect(row("label_glasses").direct).toMatchObject({ measure: "bridge darkness", movement: { seeds: 4 } });
    expect(row("label_gender_male").direct).toBeNull();
    for (const c of report.controls) {
      expect(c.movement.seeds).toBe(4);
      expect(c.movement.fraction).toBe(c.movement.movedRight / 4);
      expect(Number.isFinite(c.movement.meanChange)).toBe(true);
    }
  });

  it("reads the direction from the faces: a generator whose control darkens the face moves skin tone the wrong way", async () => {
    // Wrap the real generator: at label_skin_tone = 1 return the face darkened, so every probe of skin tone
    // and the cheek lightness must report 0 seeds moving the right way.
    const darkening = new Proxy(generator, {
      get(target, key) {
        if (key !== "generateAsync") return Reflect.get(target, key, target);
        return async (requests: readonly FaceRequest[]): Promise<FaceImage[]> => {
          const faces = await target.generateAsync(requests.map((r) => ({ seed: r.seed, psi: r.psi })));
          return faces.map((face, i) => {
            if (requests[i].controls?.label_skin_tone !== 1) return face;
            return { ...face, data: Uint8Array.from(face.data, (v, k) => (k % 4 === 3 ? v : v >> 1)) };
          });
        };
      },
    });
    const report = await CheckControlDirectionsAsync({ generator: darkening, dataset, seeds: [0, 1, 2, 3, 4, 5] });
    const skin = report.controls.find((c) => c.control === "label_skin_tone")!;
    expect(skin.direct!.movement.movedRight).toBe(0);
    expect(skin.movement.movedRight).toBe(0);
    expect(skin.movement.meanChange).toBeLessThan(0);
    // The other controls' faces are the plain seeds here: no change at all, so none "moves the right way".
    expect(report.controls.find((c) => c.control === "label_glasses")!.movement).toMatchObject({ movedRight: 0, meanChange: 0 });
  });
});

describe("memorisation check", () => {
  it("held-out images are far from every training image; a training image served as a generated face is found at distance 0", async () => {
    const firstTrain = dataset.manifest.images.findIndex((e) => e.split === "train");
    const trainPixels = await dataset.ReadImageAsync(firstTrain);
    // A "model" that returns training image `firstTrain` for seed 0 (a perfect copy) and its own faces otherwise.
    const copying = new Proxy(generator, {
      get(target, key) {
        if (key === "resolution") return dataset.resolution;
        if (key !== "generateAsync") return Reflect.get(target, key, target);
        return async (requests: readonly FaceRequest[]): Promise<FaceImage[]> =>
          requests.map((r) => {
            const rgba = new Uint8Array(dataset.resolution ** 2 * 4).fill(r.seed === 0 ? 255 : 128);
            if (r.seed === 0) for (let p = 0; p < dataset.resolution ** 2; p++) rgba.set(trainPixels.subarray(p * 3, p * 3 + 3), p * 4);
            return { width: dataset.resolution, height: dataset.resolution, data: rgba };
          });
      },
    });
    const result = await FindNearestTrainingImagesAsync({ generator: copying, dataset, count: 6 });
    expect(result.featureRes).toBe(32);
    expect(result.trainImages).toBe(360);
    expect(result.generated[0].nearest).toEqual({ index: firstTrain, file: dataset.manifest.images[firstTrain].file, distance: 0 });
    expect(result.summary.duplicates).toBe(1);
    expect(result.summary.generated.min).toBe(0);
    expect(result.heldOut).toHaveLength(6);
    expect(result.summary.heldOut!.min).toBeGreaterThan(5);
    expect(result.summary.heldOutDuplicates).toBe(0);
    expect(result.nearestPixels[0]).toEqual(trainPixels);
  });

  it("works across resolutions: a 16 px model against a 64 px data set is compared at 16×16", async () => {
    const result = await FindNearestTrainingImagesAsync({ generator, dataset, count: 3, firstSeed: 5 });
    expect(result.featureRes).toBe(16);
    expect(result.generated.map((g) => g.seed)).toEqual([5, 6, 7]);
    for (const g of result.generated) expect(dataset.manifest.images[g.nearest.index].split).toBe("train");
    expect(result.summary.medianRatio).toBeGreaterThan(0);
  });
});
