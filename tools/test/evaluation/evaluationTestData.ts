/**
 * Fixtures of the evaluation tests: a small facesjs data set built with the project's own builder, and a
 * small untrained conditional model whose label controls name that data set's label columns.
 */
import { writeFile } from "node:fs/promises";
import {
  EstimateWAvg,
  ExportGeneratorOnnx,
  GeneratorPresets,
  InitializeGeneratorWeights,
  InitializeTfjsBackendAsync,
  LabelControls,
  type GeneratorConfig,
} from "@npc-faces/trainer";
import { BuildDatasetAsync } from "../../src/dataset/buildDataset.js";

/** Label columns of {@link WriteTinyLabelModelAsync}'s model, all present in a facesjs data set. */
export const TinyLabelColumns = ["skin_tone", "glasses", "gender=male", "gender=female"];

/** Builds a facesjs data set of `count` images at `res` px with 10% held out (a few seconds for a few hundred). */
export async function BuildFacesjsDatasetAsync(out: string, count: number, res = 64, seed = 11): Promise<void> {
  await BuildDatasetAsync({ source: "facesjs", count, res, out, seed, holdout: 0.1, workers: 1 });
}

/**
 * Writes a `tiny`-preset (16×16) conditional model, untrained, with label controls for
 * {@link TinyLabelColumns} (label_skin_tone, label_glasses, label_gender_male, label_gender_female) and no
 * other controls: what `npc-faces control-check` takes, without the hours of training. `drawGender`: a face
 * whose request leaves gender unset draws it from its seed (as trained conditional models do) instead of
 * getting the 0.5 / 0.5 mix.
 */
export async function WriteTinyLabelModelAsync(path: string, options: { readonly drawGender?: boolean } = {}): Promise<void> {
  await InitializeTfjsBackendAsync("cpu");
  const config: GeneratorConfig = { ...GeneratorPresets.tiny, labelDim: TinyLabelColumns.length };
  const weights = InitializeGeneratorWeights(config, 3);
  const mean = Float32Array.from([0.5, 0.5, 0.5, 0.5]);
  weights.set("mapping.w_avg", EstimateWAvg(config, weights, 128, mean));
  const bytes = ExportGeneratorOnnx({
    config,
    weights,
    name: "tiny-label-controls-test",
    controls: LabelControls(config, weights, TinyLabelColumns, [mean], 64),
    labels: [
      { name: "skin_tone", offset: 0, values: ["skin_tone"], default: [0.5] },
      { name: "glasses", offset: 1, values: ["glasses"], default: [0.5] },
      { name: "gender", offset: 2, values: ["male", "female"], default: [0.5, 0.5], ...(options.drawGender ? { sampling: "onehot" as const } : {}) },
    ],
    defaults: { psi: 1, noiseStrength: 1 },
    provenance: { trained: false, licenses: [], credits: [], kimg: 0, tool: "tools evaluation tests" },
  });
  await writeFile(path, bytes);
}
