/**
 * Attribute coverage math on synthetic data whose answer is known: class counts, the one-vs-rest probe, mode
 * dropping; and label agreement on a small facesjs data set, with "generators" that show training images.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FillStandardNormal, type FaceRequest } from "@npc-faces/runtime";
import type { GeneratedImageSource } from "@npc-faces/trainer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenDatasetAsync, type OpenedDataset } from "../../src/dataset/packedDataset.js";
import { ComputeAttributeCoverageAsync } from "../../src/metrics/attributeCoverage.js";
import { BuildFacesjsDatasetAsync } from "./evaluationTestData.js";
import { ClassificationAccuracy, ClassifyRows, FitAttributeClassifiers } from "../../src/evaluation/attributeClassifier.js";
import { ClassShares, CountClasses, EffectiveClassCount, MeasureClassCoverage } from "../../src/evaluation/classCoverage.js";

/** Features of images of the given classes: class c has mean 3·e_c (d = 12) plus unit noise. */
function ClassFeatures(classes: ArrayLike<number>, seed: number): Float32Array {
  const d = 12;
  const out = FillStandardNormal(seed, 11, new Float32Array(classes.length * d));
  for (let i = 0; i < classes.length; i++) out[i * d + classes[i]] += 3;
  return out;
}

describe("class coverage", () => {
  it("effective classes: k for k equal classes, 1 for one, between for skewed shares", () => {
    expect(EffectiveClassCount([5, 5, 5, 5])).toBeCloseTo(4, 10);
    expect(EffectiveClassCount([0, 9, 0])).toBeCloseTo(1, 10);
    expect(EffectiveClassCount([0, 0])).toBe(0);
    const skewed = EffectiveClassCount([90, 5, 5]);
    expect(skewed).toBeGreaterThan(1);
    expect(skewed).toBeLessThan(2);
    expect(Array.from(CountClasses([0, 2, 2, -1, 7], 3))).toEqual([1, 0, 2]);
    expect(Array.from(ClassShares([1, 3]))).toEqual([0.25, 0.75]);
  });

  it("classes at half share count only classes drawn at least half as often as the reference", () => {
    const reference = ClassShares([40, 40, 10, 10, 0]);
    const coverage = MeasureClassCoverage([50, 30, 5, 0, 3], reference);
    // shares 0.57, 0.34, 0.057, 0, 0.034 vs reference 0.4, 0.4, 0.1, 0.1, 0: classes 0, 1, 2 reach half.
    expect(coverage).toEqual({ count: 88, effectiveClasses: EffectiveClassCount([50, 30, 5, 0, 3]), classesAtHalfShare: 3, classesSeen: 4 });
  });
});

describe("attribute probe", () => {
  const classCount = 8;
  const trainClasses = Int32Array.from({ length: 800 }, (_, i) => i % classCount);
  const probe = FitAttributeClassifiers(ClassFeatures(trainClasses, 1), 12, [{ name: "eyes", classes: Array.from({ length: classCount }, (_, c) => `eye${c}`), labels: trainClasses }])[0];

  it("learns separable classes (held-out accuracy near 1)", () => {
    const heldOut = Int32Array.from({ length: 400 }, (_, i) => (i * 3) % classCount);
    const accuracy = ClassificationAccuracy(ClassifyRows(probe, ClassFeatures(heldOut, 2)), heldOut);
    expect(accuracy).toBeGreaterThan(0.9);
    expect(ClassificationAccuracy([0, 1], [-1, -1])).toBeNaN();
  });

  it("a generator that drops modes has fewer effective classes and fewer classes at half share", () => {
    const reference = ClassShares(CountClasses(trainClasses, classCount));
    const real = Int32Array.from({ length: 400 }, (_, i) => i % classCount);
    const collapsed = Int32Array.from({ length: 400 }, (_, i) => (i % 5 === 0 ? 1 : 0)); // two eyes, one 4× the other
    const realCoverage = MeasureClassCoverage(CountClasses(ClassifyRows(probe, ClassFeatures(real, 3)), classCount), reference);
    const generatedCoverage = MeasureClassCoverage(CountClasses(ClassifyRows(probe, ClassFeatures(collapsed, 4)), classCount), reference);
    expect(realCoverage.effectiveClasses).toBeGreaterThan(7);
    expect(realCoverage.classesAtHalfShare).toBe(classCount);
    expect(generatedCoverage.effectiveClasses).toBeLessThan(2.5);
    expect(generatedCoverage.classesAtHalfShare).toBeLessThanOrEqual(2);
  });
});

describe("label agreement (conditional models)", () => {
  let dir: string;
  let dataset: OpenedDataset;
  let train: number[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "npc-faces-agreement-"));
    await BuildFacesjsDatasetAsync(join(dir, "faces"), 160, 32);
    dataset = await OpenDatasetAsync(join(dir, "faces"));
    train = dataset.manifest.images.flatMap((image, index) => (image.split === "train" ? [index] : []));
  });
  afterAll(async () => {
    await dataset.CloseAsync();
    await rm(dir, { recursive: true, force: true });
  });

  /** A "generator" that answers a request with training image `pick(request)`, whose labels a request is said to get. */
  function ImageGenerator(pick: (request: FaceRequest) => number): GeneratedImageSource {
    return {
      generateAsync: (requests) =>
        Promise.all(
          requests.map(async (request) => {
            const rgb = await dataset.ReadImageAsync(train[pick(request)]);
            const rgba = new Uint8Array((rgb.length / 3) * 4).fill(255);
            for (let p = 0; p < rgb.length / 3; p++) rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
            return { width: dataset.resolution, height: dataset.resolution, data: rgba };
          }),
        ),
    };
  }
  const labelsOf = (request: FaceRequest) => dataset.manifest.images[train[request.seed % train.length]].labels;
  const Measure = (generator: GeneratedImageSource, withLabels = true, setLabelSeeds = 0) =>
    ComputeAttributeCoverageAsync({
      generator, generatorResolution: dataset.resolution, dataset, attributes: ["gender"], count: 100, probe: "pixels", featureRes: 16,
      ...(withLabels ? { labelsOf } : {}),
      ...(setLabelSeeds > 0 ? { setLabels: { values: { gender: ["male", "female"], hair: ["x"] }, seeds: setLabelSeeds } } : {}),
    });

  it("is near the probe's accuracy for faces that show what they asked for, and the asked-for share for faces that ignore it", async () => {
    const obeys = (await Measure(ImageGenerator(({ seed }) => seed % train.length))).attributes[0];
    expect(obeys.labelAgreement).toBeGreaterThan(0.9);

    // Every face is training image 0, whatever it asked for: it agrees exactly for the requests that asked for the class the probe reads in it.
    const ignores = (await Measure(ImageGenerator(() => 0))).attributes[0];
    const asked = Array.from({ length: 100 }, (_, seed) => labelsOf({ seed }).gender);
    const shares = ["male", "female"].map((value) => asked.filter((a) => a === value).length / asked.length);
    expect(shares).toContain(ignores.labelAgreement);
    expect(Math.min(...shares)).toBeGreaterThan(0.2); // both genders asked for, so ignoring them shows

    // Per class: every face read as the one gender of image 0, so that class is followed always and the other never,
    // read instead as the first; the faces asked for each are the asked-for shares.
    const [shown, other] = Object.entries(ignores.perClass).sort(([, a], [, b]) => b.generated - a.generated);
    expect([shown[1].generated, other[1].generated]).toEqual([1, 0]);
    expect([shown[1].follows, other[1].follows]).toEqual([1, 0]);
    expect(other[1].readInstead).toEqual({ value: shown[0], share: 1 });
    expect(shown[1].readInstead).toBeUndefined();
    expect([shown[1].asked, other[1].asked].sort()).toEqual(["male", "female"].map((value) => asked.filter((a) => a === value).length).sort());
    for (const detail of Object.values(obeys.perClass)) expect(detail.follows).toBeGreaterThan(0.8);
    const sum = (key: "training" | "real" | "generated") => Object.values(obeys.perClass).reduce((total, detail) => total + detail[key], 0);
    expect([sum("training"), sum("real"), sum("generated")].map((x) => x.toFixed(9))).toEqual(["1.000000000", "1.000000000", "1.000000000"]);

    const unconditional = (await Measure(ImageGenerator(({ seed }) => seed % train.length), false)).attributes[0];
    expect(unconditional.labelAgreement).toBeUndefined();
    expect(Object.values(unconditional.perClass).map((detail) => Object.keys(detail).sort())).toEqual([["generated", "real", "training"], ["generated", "real", "training"]]);
  });

  it("reads back each value set in the request: every value from faces that show it, one from faces that ignore it", async () => {
    /** A request that sets a gender gets a training image of that gender (by seed); one that sets none, image 0. */
    const ofGender = (value: string) => train.flatMap((index, position) => (dataset.manifest.images[index].labels.gender === value ? [position] : []));
    const obeys = ImageGenerator(({ seed, labels }) => (labels?.gender ? ofGender(labels.gender)[seed % 7] : 0));
    const shown = (await Measure(obeys, true, 6)).attributes[0].setLabel!;
    expect(shown.seeds).toBe(6);
    expect(shown.values).toBe(2);
    expect(Object.keys(shown.perValue).sort()).toEqual(["female", "male"]);
    expect(shown.readBack).toBeGreaterThan(0.9);
    expect(shown.valuesReached).toBe(2);

    // Image 0 whatever is set: the probe reads one gender in it, so exactly that value is read back, on every seed.
    const ignored = (await Measure(ImageGenerator(() => 0), true, 6)).attributes[0].setLabel!;
    expect(ignored.readBack).toBe(0.5);
    expect(ignored.valuesReached).toBe(1);
    expect(Object.values(ignored.perValue).sort()).toEqual([0, 1]);

    expect((await Measure(obeys)).attributes[0].setLabel).toBeUndefined();
  });

  it("--probes: fits once and reads the same probes back; refits for other settings; refuses a file that is not a probe file", async () => {
    const probeFile = join(dir, "probes.json");
    const generator = ImageGenerator(({ seed }) => seed % train.length);
    const MeasureKept = (attributes: string[], probe: "cnn" | "pixels" = "cnn") =>
      ComputeAttributeCoverageAsync({ generator, generatorResolution: dataset.resolution, dataset, attributes, count: 40, probe, featureRes: 16, probeEpochs: 2, labelsOf, probeFile });
    const fitted = await MeasureKept(["gender", "eyes"]);
    expect([fitted.probe, fitted.probes]).toEqual(["cnn", "fitted"]);
    expect(fitted.probeFeatures).toMatch(/^CNN .* on 32x32 RGB, trained with ±2 px shifts$/);
    const written = await stat(probeFile);
    const read = await MeasureKept(["gender", "eyes"]);
    expect(read.probes).toBe("read");
    expect((await stat(probeFile)).mtimeMs).toBe(written.mtimeMs); // not rewritten
    // The read probes classify exactly as the fitted ones did.
    const { seconds: _a, probes: _b, ...fittedFigures } = fitted;
    const { seconds: _c, probes: _d, ...readFigures } = read;
    expect(readFigures).toEqual(fittedFigures);
    // Other attributes, or the other probe: fitted again and the file replaced by the new probes.
    expect((await MeasureKept(["gender"])).probes).toBe("fitted");
    expect((await MeasureKept(["gender"])).probes).toBe("read");
    const pixels = await MeasureKept(["gender"], "pixels");
    expect([pixels.probe, pixels.probes, pixels.probeFeatures]).toEqual(["pixels", "fitted", "ridge one-vs-rest on pixels 16x16"]);
    const pixelsAgain = await MeasureKept(["gender"], "pixels");
    expect(pixelsAgain.probes).toBe("read");
    expect(pixelsAgain.attributes).toEqual(pixels.attributes);
    expect((await Measure(generator)).probes).toBeUndefined();

    const notProbes = join(dir, "notes.json");
    await writeFile(notProbes, '{"mine": 1}');
    await expect(ComputeAttributeCoverageAsync({ generator, generatorResolution: dataset.resolution, dataset, attributes: ["gender"], count: 8, probe: "pixels", featureRes: 16, probeFile: notProbes })).rejects.toThrow(
      /--probes .*notes\.json: not a probe file written by npc-faces metrics \(its "format" is not/,
    );
    expect(await readFile(notProbes, "utf8")).toBe('{"mine": 1}');
  });
});
