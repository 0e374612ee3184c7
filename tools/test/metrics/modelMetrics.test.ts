/**
 * End-to-end metrics: a tiny untrained model and a tiny facesjs data set made here, through the API and the
 * built `npc-faces metrics` binary, plus its bad-input cases.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EstimateWAvg,
  ExportGeneratorOnnx,
  FeatureNetworkName,
  GeneratorPresets,
  InitializeGeneratorWeights,
  InitializeTfjsBackendAsync,
} from "@npc-faces/trainer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildDatasetAsync } from "../../src/dataset/buildDataset.js";
import { ComputeDataFloorAsync, ComputeModelMetricsAsync } from "../../src/metrics/modelMetrics.js";
import { RunCliAsync } from "../cli/cliTestData.js";
import { WriteTinyLabelModelAsync } from "../evaluation/evaluationTestData.js";

let dir: string;
let model: string;
let data: string;
let noHoldout: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-metrics-"));
  await InitializeTfjsBackendAsync("wasm");
  const config = GeneratorPresets.tiny;
  const weights = InitializeGeneratorWeights(config, 3);
  weights.set("mapping.w_avg", EstimateWAvg(config, weights, 64));
  model = join(dir, "tiny.onnx");
  await writeFile(model, ExportGeneratorOnnx({ config, weights, name: "tiny-metrics-test", controls: [], provenance: { trained: false, licenses: [], credits: [], kimg: 0, tool: "metrics test" } }));
  data = join(dir, "faces");
  await BuildDatasetAsync({ source: "facesjs", count: 16, res: 32, holdout: 0.25, out: data, workers: 1 });
  noHoldout = join(dir, "faces-all-train");
  await BuildDatasetAsync({ source: "facesjs", count: 4, res: 32, out: noHoldout, workers: 1 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("ComputeModelMetricsAsync / ComputeDataFloorAsync", () => {
  it("measures a model against the held-out images, and the data set's floor", async () => {
    const metrics = await ComputeModelMetricsAsync({ modelPath: model, dataDir: data, count: 6 });
    expect(metrics).toMatchObject({ count: 6, dataCount: 4, dataSplit: "holdout", psi: 1, featureNet: FeatureNetworkName, data });
    expect(metrics.dataset).toMatch(/^[0-9a-f]{64}$/);
    for (const key of ["fd", "kid", "kidStd", "diversityGenerated", "diversityData", "diversityRatio", "seconds"] as const) expect(Number.isFinite(metrics[key])).toBe(true);
    expect(metrics.fd).toBeGreaterThan(0);
    const floor = await ComputeDataFloorAsync(data, { count: 6 });
    expect(floor).toMatchObject({ count: 6, dataCount: 4, featureNet: FeatureNetworkName });
    // An untrained generator's noise is farther from the faces than other faces are.
    expect(metrics.fd).toBeGreaterThan(floor.fd);
    expect(metrics.kid).toBeGreaterThan(floor.kid);
    expect(floor.diversityData).toBeCloseTo(metrics.diversityData, 4); // same held-out features
    // Recall by the held-out images' labels: every compared image counted once per attribute, the overall recall
    // their weighted mean, and the per-image indices kept out of the report.
    const by = await ComputeModelMetricsAsync({ modelPath: model, dataDir: data, count: 6, recallBy: ["gender", "eyes"] });
    expect(by.recall).toBe(metrics.recall);
    expect(Object.keys(by.recallByLabel!)).toEqual(["gender", "eyes"]);
    for (const values of Object.values(by.recallByLabel!)) {
      expect(values.reduce((n, v) => n + v.images, 0)).toBe(by.dataCount);
      expect(values.reduce((n, v) => n + v.recall * v.images, 0) / by.dataCount).toBeCloseTo(by.recall, 12);
    }
    expect(by).not.toHaveProperty("recalled");
    expect(metrics).not.toHaveProperty("recallByLabel");
    // Deterministic: the same call gives the same figures.
    const again = await ComputeModelMetricsAsync({ modelPath: model, dataDir: data, count: 6 });
    expect(again.fd).toBe(metrics.fd);
    expect(again.kid).toBe(metrics.kid);
  });

  it("falls back to the training images without a holdout split; the floor refuses", async () => {
    const metrics = await ComputeModelMetricsAsync({ modelPath: model, dataDir: noHoldout, count: 3 });
    expect(metrics).toMatchObject({ dataSplit: "train", dataCount: 3, count: 3 });
    await expect(ComputeDataFloorAsync(noHoldout, { count: 3 })).rejects.toThrow(/holds out 0 images/);
  });
});

describe("npc-faces metrics", () => {
  it("prints the figures as JSON", async () => {
    const result = await RunCliAsync(["metrics", "--model", model, "--data", data, "--count", "3", "--noise-strength", "0.5", "--no-coverage", "--recall-by", "gender", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ model, count: 3, dataCount: 3, dataSplit: "holdout", featureNet: FeatureNetworkName, psi: 1, noiseStrength: 0.5 });
    expect(typeof json.fd).toBe("number");
    const gender = (json.recallByLabel as Record<string, { value: string; images: number; recall: number }[]>).gender;
    expect(gender.map((v) => v.value).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^(male|female)$/)]));
    expect(gender.reduce((n, v) => n + v.images, 0)).toBe(3);
    const human = await RunCliAsync(["metrics", "--model", model, "--data", data, "--count", "3", "--no-coverage", "--recall-by", "gender"]);
    expect(human.stdout).toMatch(/\nrecall by gender \(lowest first; images\): (fe)?male \d\.\d+ \(\d\)/);
  });

  it("reports precision/recall beside the floor's, and the attribute coverage, in JSON and in the summary", async () => {
    const args = ["metrics", "--model", model, "--data", data, "--count", "4", "--floor", "--coverage-count", "8", "--probe-images", "12", "--attributes", "eyes,mouth"];
    const result = await RunCliAsync([...args, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { precision: number; recall: number; k: number; floor: { precision: number; recall: number; k: number }; coverage: { attributes: { attribute: string; probeAccuracy: number; real: { effectiveClasses: number; count: number }; generated: { effectiveClasses: number; classesAtHalfShare: number; count: number } }[]; realCount: number; generatedCount: number; probeImages: number } };
    for (const figures of [json, json.floor]) {
      expect(figures.precision).toBeGreaterThanOrEqual(0);
      expect(figures.recall).toBeLessThanOrEqual(1);
      expect(figures.k).toBe(3);
    }
    expect(json.coverage).toMatchObject({ realCount: 4, generatedCount: 8, probeImages: 12 });
    expect(json.coverage.attributes.map((a) => a.attribute)).toEqual(["eyes", "mouth"]);
    for (const a of json.coverage.attributes) {
      expect(a.generated.count).toBe(8);
      expect(a.real.count).toBe(4);
      expect(a.generated.effectiveClasses).toBeGreaterThanOrEqual(1);
      expect(a.real.effectiveClasses).toBeGreaterThanOrEqual(1);
      expect(a.probeAccuracy).toBeGreaterThanOrEqual(0);
    }
    const human = await RunCliAsync(args);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/precision +[\d.]+ \(real vs real [\d.]+\)  k=3/);
    expect(human.stdout).toMatch(/recall +[\d.]+ \(real vs real [\d.]+\)/);
    expect(human.stdout).toMatch(/attribute coverage \(probe: CNN 16-32-64-128 on 16x16 RGB, trained with ±2 px shifts, fitted on 12 training images; 4 held-out real vs 8 generated\)/);
    const pixels = await RunCliAsync([...args, "--probe", "pixels", "--json"]);
    expect((JSON.parse(pixels.stdout) as { coverage: { probe: string; probeFeatures: string } }).coverage).toMatchObject({ probe: "pixels", probeFeatures: "ridge one-vs-rest on pixels 16x16" });
    expect(human.stdout).toMatch(/\n  eyes +\d+ +\d+% \(base \d+%\)/);
    const skipped = await RunCliAsync(["metrics", "--model", model, "--data", data, "--count", "3", "--no-coverage", "--json"]);
    expect((JSON.parse(skipped.stdout) as Record<string, unknown>).coverage).toBeUndefined();
    const unknown = await RunCliAsync(["metrics", "--model", model, "--data", data, "--count", "3", "--attributes", "nose"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no categorical label "nose"/);
  }, 300_000); // four CLI runs, each loading InceptionV3 on wasm: 108 s measured on a loaded 2-core machine

  it("says how often a conditional model's faces show the gender their seed drew (follows label); an unconditional one has no such figure", async () => {
    const conditional = join(dir, "tiny-label.onnx");
    await WriteTinyLabelModelAsync(conditional, { drawGender: true });
    const args = ["--data", data, "--count", "2", "--coverage-count", "16", "--probe-images", "12", "--attributes", "gender"];
    type Coverage = { coverage: { attributes: { attribute: string; labelAgreement?: number }[] } };
    const drawn = await RunCliAsync(["metrics", "--model", conditional, ...args, "--json"]);
    expect(drawn.stderr).toBe("");
    const [gender] = (JSON.parse(drawn.stdout) as Coverage).coverage.attributes;
    expect(gender.attribute).toBe("gender");
    // Every one of the 16 faces drew a gender, so the share is a whole number of sixteenths.
    expect(gender.labelAgreement).toBeGreaterThanOrEqual(0);
    expect(gender.labelAgreement).toBeLessThanOrEqual(1);
    expect(Number.isInteger(Math.round(gender.labelAgreement! * 16 * 1e6) / 1e6)).toBe(true);
    const human = await RunCliAsync(["metrics", "--model", conditional, ...args]);
    expect(human.stdout).toMatch(/follows label\n  gender .* \d+%\n/);
    // --set-label-seeds: each gender set on 3 seeds, read back; the share is a whole number of sixths.
    type SetLabel = { coverage: { attributes: { setLabel?: { seeds: number; values: number; readBack: number; valuesReached: number; perValue: Record<string, number> } }[] } };
    const set = (JSON.parse((await RunCliAsync(["metrics", "--model", conditional, ...args, "--set-label-seeds", "3", "--json"])).stdout) as SetLabel).coverage.attributes[0].setLabel!;
    expect([set.seeds, set.values, Object.keys(set.perValue).sort()]).toEqual([3, 2, ["female", "male"]]);
    expect(Number.isInteger(Math.round(set.readBack * 6 * 1e6) / 1e6)).toBe(true);
    expect(set.valuesReached).toBe(Object.values(set.perValue).filter((share) => share >= 0.5).length);
    expect((await RunCliAsync(["metrics", "--model", conditional, ...args, "--set-label-seeds", "3"])).stdout).toMatch(/set label read back \(values reached\)\n  gender .* \d+% \(\d\/2\)\n/);
    const unconditional = await RunCliAsync(["metrics", "--model", model, ...args, "--json"]);
    expect((JSON.parse(unconditional.stdout) as Coverage).coverage.attributes[0].labelAgreement).toBeUndefined();
    expect((await RunCliAsync(["metrics", "--model", model, ...args])).stdout).toMatch(/\n  gender .* -\n/);
  }, 300_000);

  it("documents every flag and default in --help", async () => {
    const result = await RunCliAsync(["metrics", "--help"]);
    expect(result.code).toBe(0);
    for (const flag of ["--model <file>", "--data <dir>", "--count <n>", "--psi <x>", "--noise-strength <x>", "--first-seed <seed>", "--floor", "--json", "--k <n>", "--no-coverage", "--coverage-count <n>", "--attributes <list>", "--probe-images <n>", "--probe <kind>", "--probe-epochs <n>", "--probe-res <n>", "--probes <file>", "--set-label-seeds <n>", "--recall-by <list>"]) expect(result.stdout).toContain(flag);
    expect(result.stdout).toMatch(/default: 256/);
    expect(result.stdout).toMatch(/not the standard FID network/);
  });

  it("rejects bad input with one clear line", async () => {
    const cases: [string[], RegExp, number][] = [
      [["--model", join(dir, "missing.onnx"), "--data", data], /--model .*missing\.onnx: cannot read the model file \(no such file\)/, 1],
      [["--model", model, "--data", join(dir, "no-such-dir")], /--data .*no-such-dir: no such folder/, 1],
      [["--model", model, "--data", dir], /not an npc-faces data set \(no dataset\.json\)/, 1],
      [["--model", model, "--data", data, "--count", "0"], /--count.*expected an integer in 2\.\.50000, got 0/, 2],
      [["--model", model, "--data", data, "--noise-strength", "x"], /--noise-strength.*expected a finite number/, 2],
      [["--model", model, "--data", data, "--psi", "abc"], /--psi.*expected a finite number/, 2],
      [["--model", model, "--data", data, "--recall-by", "gender,nose"], /--recall-by: the data set has no categorical label "nose" \(it has: .*gender/, 1],
      [["--model", model, "--data", data, "--attributes", "gender,,eyes"], /--attributes <list>' argument 'gender,,eyes' is invalid\. expected comma-separated names/, 2],
      [["--model", model, "--data", data, "--set-label-seeds", "-1"], /--set-label-seeds.*expected an integer in 0\.\.50000, got -1/, 2],
      [["--model", model, "--data", data, "--probes", join(dir, "no-such-dir", "probes.json")], /--probes .*probes\.json: the folder .*no-such-dir does not exist/, 1],
      [["--model", model, "--data", data, "--probes", model], /--probes .*tiny\.onnx: not a probe file written by npc-faces metrics \(not JSON\); give a new path, or remove the file/, 1],
    ];
    for (const [args, message, code] of cases) {
      const result = await RunCliAsync(["metrics", ...args]);
      expect(result.stdout).toBe("");
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(code);
    }
  });
});
