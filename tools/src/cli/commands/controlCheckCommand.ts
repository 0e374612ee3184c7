/**
 * `npc-faces control-check --data DIR`: do a conditional model's label controls move their attributes the
 * right way? Fits a linear probe per label column on the data set, scores it on held-out images, and counts
 * the seeds where each control's maximum raises the probe's prediction over its minimum (see
 * evaluation/controlDirectionCheck.ts). A report: exits 0 whatever the verdict.
 */
import type { FaceEngine } from "@npc-faces/runtime/node";
import { Command, Option } from "commander";
import { EngineOption, IntegerParser, ParseFiniteNumber, ParseSeedListArgument } from "../argParsers.js";
import { CliFailure } from "../cliErrors.js";
import { FormatTable, PhaseProgressLine } from "../cliFormat.js";

/** Parsed flags of `npc-faces control-check`. */
interface ControlCheckFlags {
  engine: FaceEngine;
  model?: string;
  data: string;
  seeds: number[];
  psi?: number;
  probeImages: number;
  json?: boolean;
}

/** `npc-faces control-check`: see its `--help` and docs/evaluation.md. */
export function ControlCheckCommand(): Command {
  return new Command("control-check")
    .summary("check that a conditional model's label controls change their attributes the right way")
    .description(
      "For each label control of the model (label_skin_tone, label_glasses, ...), fits a linear probe of its label column on the data set " +
        "(ridge regression on 16x16 RGB pixels, up to --probe-images training images), reports how well the probe predicts the held-out " +
        "images (r; accuracy against the majority-class baseline for yes/no labels), then generates each seed's face at the control's " +
        "minimum and maximum (everything else at the model's defaults) and counts the seeds where the probe's prediction rises. Skin tone, " +
        "glasses and facial hair also get a direct measurement: the median lightness (CIE L*/100) of two cheek patches, and how much darker " +
        "than the cheeks the nose bridge / the mouth surroundings are. A report: exit status 0 whatever it finds. " +
        "See docs/evaluation.md.",
    )
    .option("--model <file>", "model file (.onnx) with label controls (default: the bundled default model)")
    .requiredOption("--data <dir>", "a labelled data set with the model's label columns (normally the one it trained on)")
    .addOption(new Option("--seeds <list>", "seeds and inclusive ranges, e.g. 0-31 or 5,9,100-115").default(Array.from({ length: 32 }, (_, i) => i), "0-31").argParser(ParseSeedListArgument))
    .addOption(new Option("--psi <x>", "truncation of the generated faces (default: the model's default psi)").argParser(ParseFiniteNumber))
    .addOption(new Option("--probe-images <n>", "most training images to fit each probe on").default(4000).argParser(IntegerParser(10, 100_000)))
    .option("--json", "print the report as one JSON object (default: a table)")
    .addOption(EngineOption())
    .addHelpText("after", "\nExamples:\n  npc-faces control-check --data data/facesjs64\n  npc-faces control-check --model runs/default/model.onnx --data data/facesjs64 --seeds 0-63 --json")
    .action(async (flags: ControlCheckFlags) => {
      const { OpenMetricsDataAsync } = await import("../../metrics/modelMetrics.js");
      const { LoadModelForCliAsync, ModelOrDefault } = await import("../loadModelForCli.js");
      const { CheckControlDirectionsAsync, LabelControlsOf } = await import("../../evaluation/controlDirectionCheck.js");
      const { HasLabelColumn } = await import("../../evaluation/labelProbe.js");

      // Every input is checked before the slow part (probe fitting, generation).
      const dataset = await OpenMetricsDataAsync(flags.data).catch((error: unknown) => {
        throw new CliFailure((error as Error).message);
      });
      const model = ModelOrDefault("--model", flags.model);
      try {
        const schema = dataset.manifest.labelSchema;
        if (Object.keys(schema.numeric).length === 0 && Object.keys(schema.categorical).length === 0) {
          throw new CliFailure(`--data ${flags.data}: the data set has no labels; control-check needs the labelled data set the model trained on`);
        }
        const generator = await LoadModelForCliAsync(model, { engine: flags.engine });
        try {
          const controls = LabelControlsOf(generator.controls);
          const where = `${model.what} ${model.path}`;
          if (controls.length === 0) {
            throw new CliFailure(`${where} has no label controls (kind "label"; it has: ${generator.controls.map((c) => c.name).join(", ") || "none"}); control-check needs a conditional model exported with label directions`);
          }
          const missing = controls.find((c) => !HasLabelColumn(dataset.manifest, c.label));
          if (missing) throw new CliFailure(`--data ${flags.data}: the data set has no label column "${missing.label}" (${where}'s control ${missing.name} shifts toward it)`);
          const progress = PhaseProgressLine();
          const report = await CheckControlDirectionsAsync({ generator, dataset, seeds: flags.seeds, psi: flags.psi, probeImages: flags.probeImages, onProgress: progress }).catch((error: unknown) => {
            throw new CliFailure(`--data ${flags.data}: ${(error as Error).message}`);
          });
          if (flags.json) {
            process.stdout.write(`${JSON.stringify({ model: { path: model.path, name: generator.metadata.name, sha256: generator.modelHash }, data: flags.data, dataset: dataset.manifest.contentHash, ...report }, null, 2)}\n`);
            return;
          }
          const f = (x: number | null, digits = 2) => (x === null || Number.isNaN(x) ? "n/a" : x.toFixed(digits));
          const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;
          const table = FormatTable([
            ["control", "probe (held-out)", "right way", "mean change"],
            ...report.controls.flatMap((row) => {
              const q = row.probe;
              const quality = q.binary ? `acc ${f(q.accuracy)} (base ${f(q.baseline)}), r ${f(q.r)}` : `r ${f(q.r)}`;
              const lines = [[row.control, quality, `${row.movement.movedRight}/${row.movement.seeds} (${Math.round(row.movement.fraction * 100)}%)`, signed(row.movement.meanChange)]];
              const agreement = report.directQuality.find((d) => d.column === row.column);
              if (row.direct && agreement) {
                const m = row.direct.movement;
                lines.push([`  ${row.direct.measure}`, `r ${f(agreement.r, 3)}`, `${m.movedRight}/${m.seeds} (${Math.round(m.fraction * 100)}%)`, signed(m.meanChange)]);
              }
              return lines;
            }),
          ], "  ");
          const lines = [
            `${model.path}: ${controls.length} label controls, ${report.seeds.length} seeds, psi ${report.psi}`,
            `probes: ridge on ${report.featureRes}x${report.featureRes} RGB, fitted on ${report.probeImages} training images, scored on ${report.scoring.count} ${report.scoring.split === "holdout" ? "held-out" : "unused training"} images of ${flags.data}`,
            ...table,
            "right way: seeds where the measurement rises from the control's minimum to its maximum; mean change in label units (0..1; indented direct measurements: L*/100)",
          ];
          process.stdout.write(`${lines.join("\n")}\n`);
        } finally {
          await generator.disposeAsync();
        }
      } finally {
        await dataset.CloseAsync();
      }
    });
}
