/**
 * `npc-faces metrics --model FILE --data DIR`: Fréchet and kernel distances, the diversity ratio and improved
 * precision/recall of a model against a data set's held-out images, plus the coverage of the data set's
 * categorical labels (probes on pixel features, src/metrics/attributeCoverage.ts), on features of the InceptionV3 inside the nsfwjs package (offline;
 * NOT the standard FID network: figures compare only with figures of this command on the same data set and
 * --count). See docs/training.md, "Metrics".
 */
import { FaceLabelValues, type FaceRequest } from "@npc-faces/runtime";
import type { FaceEngine } from "@npc-faces/runtime/node";
import { Command, Option } from "commander";
import { EngineOption, IntegerParser, NumberInRangeParser, ParseFiniteNumber, ParseNameList, ParseSeed } from "../argParsers.js";
import { CliFailure } from "../cliErrors.js";
import { DefaultModelHelp, FormatTable, PhaseProgressLine } from "../cliFormat.js";

/** Parsed flags of `npc-faces metrics`. */
interface MetricsFlags {
  engine: FaceEngine;
  model?: string;
  data: string;
  count: number;
  psi: number;
  noiseStrength?: number;
  firstSeed: number;
  floor?: boolean;
  json?: boolean;
  k: number;
  coverage: boolean;
  coverageCount: number;
  attributes?: string[];
  probeImages?: number;
  probe: "cnn" | "pixels";
  probeRes: number;
  probeEpochs: number;
  probes?: string;
  setLabelSeeds: number;
  recallBy?: string[];
}

/** Largest --count (the features of 50,000 images and as many faces take about an hour and a half on 2 cores). */
const MaxCount = 50_000;

/** `npc-faces metrics`: see its `--help` and docs/training.md. */
export function MetricsCommand(): Command {
  return new Command("metrics")
    .summary("measure a model against a data set (FD, KID, diversity, precision/recall, attribute coverage)")
    .description(
      "Generates --count faces and compares them with the data set's held-out images (the training images when it holds out fewer than 2): " +
        "fd (Fréchet distance), kid (kernel distance, unbiased; ~0 = indistinguishable) and the diversity ratio (mean pairwise feature distance " +
        "of generated vs data images; below 0.5 flags mode collapse), precision and recall (k-nearest-neighbour manifolds, Kynkäänniemi et al. 2019: " +
        "precision = generated faces that look like data, recall = data faces the generator covers; recall falls when modes are dropped). Features: the InceptionV3 shipped inside the nsfwjs package, pooled 2048-d " +
        "layer, images resized to 299x299 — not the standard FID network, so compare figures only with this command's, on the same data set and " +
        "--count. Runs offline on onnxruntime-node's CPU kernels (tfjs's wasm backend where it is not installed, ~6x slower): about 17 images/s on 2 cores. " +
        "Attribute coverage (unless --no-coverage): for each categorical label of the data set (facesjs: eyes, mouth, hair_style, ...), a probe fitted " +
        "on training images (--probe: a small CNN trained with shifts, or ridge on pixels) classifies --coverage-count generated faces and as many held-out images; reported: the probe's held-out accuracy, the " +
        "effective number of classes (exp of the entropy) and the classes that reach half their training share. See docs/evaluation.md.",
    )
    .option("--model <file>", `model file (.onnx); ${DefaultModelHelp}`)
    .requiredOption("--data <dir>", "data set folder (from `npc-faces dataset`; its held-out split is the reference)")
    .addOption(new Option("--count <n>", "generated faces (seeds from --first-seed), and the most data images used").default(256).argParser(IntegerParser(2, MaxCount)))
    .addOption(new Option("--psi <x>", "truncation of the generated faces (1 = the full distribution)").default(1).argParser(ParseFiniteNumber))
    .addOption(new Option("--noise-strength <x>", "noise multiplier of the generated faces, 0..4 (default: the model's)").argParser(NumberInRangeParser(0, 4)))
    .addOption(new Option("--first-seed <seed>", "seed of the first generated face").default(0).argParser(ParseSeed))
    .option("--floor", "also measure the data set's floor: its first --count training images vs the same held-out images (what a perfect model would score) (default: off)")
    .option("--json", "print the figures as one JSON object (default: a human summary)")
    .addOption(new Option("--k <n>", "neighbourhood size of precision and recall").default(3).argParser(IntegerParser(1, 100)))
    .option("--no-coverage", "skip the attribute coverage")
    .addOption(new Option("--coverage-count <n>", "generated faces (and most held-out images) classified for the attribute coverage").default(1000).argParser(IntegerParser(2, MaxCount)))
    .addOption(new Option("--attributes <list>", "categorical labels to cover, comma-separated (default: every one with 2+ classes)").argParser(ParseNameList))
    .addOption(new Option("--recall-by <list>", "categorical labels of the data set to break recall down by, comma-separated: per value, the share of its held-out images inside the generated faces' manifold (which faces the model misses; e.g. glasses,gender) (default: none)").argParser(ParseNameList))
    .addOption(new Option("--probe-images <n>", "training images the attribute probes are fitted on (default: cnn 8000, pixels 4000)").argParser(IntegerParser(2, 1_000_000)))
    .addOption(
      new Option("--set-label-seeds <n>", "conditional models: also set each value of each covered attribute the model takes on this many seeds (from --first-seed) and report how often the probe reads it back (0: off)")
        .default(0)
        .argParser(IntegerParser(0, MaxCount)),
    )
    .addOption(
      new Option("--probe <kind>", "attribute probe: cnn (a small convolutional network trained with random 2-pixel shifts; reads a style drawn a pixel off as that style; ~12 min to fit on one core at 64 px) or pixels (ridge on area-averaged pixels: a template matcher, a one-pixel shift misleads it; ~2 min)")
        .choices(["cnn", "pixels"])
        .default("cnn"),
    )
    .addOption(new Option("--probe-epochs <n>", "cnn probe: passes over the --probe-images").default(9).argParser(IntegerParser(1, 1000)))
    .addOption(new Option("--probe-res <n>", "pixels probe: side of its pixel features (32 tells facesjs's eyes and mouths apart; 16 fits 16-64x faster but blurs them)").default(32).argParser(IntegerParser(1, 64)))
    .option("--probes <file>", "keep the fitted attribute probes in this file: read from it when they were fitted on the same data set with the same --probe, --probe-images, --probe-epochs or --probe-res and --attributes, otherwise fitted and written there (fitting is most of the coverage's time; use one file per data set when measuring many snapshots)")
    .addOption(EngineOption())
    .addHelpText(
      "after",
      "\nExamples:\n  npc-faces metrics --data data/faces64        # the bundled default model\n  npc-faces metrics --model models/faces.onnx --data data/faces64\n  npc-faces metrics --model runs/faces64/model.onnx --data data/faces64 --count 1000 --floor --json\n  npc-faces metrics --model runs/faces64/kimg-400.onnx --data data/faces64 --probes runs/faces64/probes.json   # fits the probes once",
    )
    .action(async (flags: MetricsFlags) => {
      const { ComputeModelMetricsAsync, ComputeDataFloorAsync, OpenMetricsDataAsync } = await import("../../metrics/modelMetrics.js");
      const { ComputeAttributeCoverageAsync } = await import("../../metrics/attributeCoverage.js");
      const { FormatCoverageTable } = await import("../coverageTable.js");
      const { LoadModelForCliAsync, ModelOrDefault } = await import("../loadModelForCli.js");
      const model = ModelOrDefault("--model", flags.model);
      // Check both inputs before the slow part (loading the feature network, generating).
      const opened = await OpenMetricsDataAsync(flags.data).catch((error: unknown) => {
        throw new CliFailure((error as Error).message);
      });
      const holdoutCount = opened.manifest.images.filter((entry) => entry.split === "holdout").length;
      const categorical = opened.manifest.labelSchema.categorical;
      await opened.CloseAsync();
      for (const [flag, names] of [["--attributes", flags.coverage ? flags.attributes : undefined], ["--recall-by", flags.recallBy]] as const) {
        const unknown = (names ?? []).find((name) => !categorical[name]);
        if (unknown !== undefined) throw new CliFailure(`${flag}: the data set has no categorical label "${unknown}" (it has: ${Object.keys(categorical).join(", ") || "none"})`);
      }
      const coverage = flags.coverage && holdoutCount >= 2;
      if (coverage && flags.probes) {
        const { CheckProbeFilePathAsync } = await import("../../evaluation/attributeProbeFile.js");
        await CheckProbeFilePathAsync(flags.probes).catch((error: unknown) => {
          throw new CliFailure((error as Error).message);
        });
      }
      const generator = await LoadModelForCliAsync(model, { engine: flags.engine });
      const progress = PhaseProgressLine("features: ");
      try {
        const metrics = await ComputeModelMetricsAsync({ generator, dataDir: flags.data, count: flags.count, psi: flags.psi, noiseStrength: flags.noiseStrength, firstSeed: flags.firstSeed, k: flags.k, recallBy: flags.recallBy, onProgress: progress });
        const noiseStrength = flags.noiseStrength ?? generator.metadata.defaults.noiseStrength;
        const floor = flags.floor ? await ComputeDataFloorAsync(flags.data, { count: flags.count, k: flags.k, onProgress: progress }) : null;
        let attributeCoverage = null;
        if (coverage) {
          const dataset = await OpenMetricsDataAsync(flags.data);
          try {
            attributeCoverage = await ComputeAttributeCoverageAsync({
              generator, generatorResolution: generator.metadata.resolution, dataset, attributes: flags.attributes, count: flags.coverageCount, probeImages: flags.probeImages, probe: flags.probe, probeEpochs: flags.probeEpochs, featureRes: flags.probeRes, probeFile: flags.probes,
              psi: flags.psi, noiseStrength: flags.noiseStrength, firstSeed: flags.firstSeed, onProgress: PhaseProgressLine("coverage: "),
              ...(generator.metadata.labels.length > 0 ? { labelsOf: (request: FaceRequest) => FaceLabelValues(generator.metadata, request) } : {}),
              ...(flags.setLabelSeeds > 0
                ? { setLabels: { values: Object.fromEntries(generator.metadata.labels.map((l) => [l.name, l.values])), seeds: flags.setLabelSeeds } }
                : {}),
            });
          } catch (error) {
            throw new CliFailure((error as Error).message);
          } finally {
            await dataset.CloseAsync();
          }
        }
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ model: model.path, ...metrics, noiseStrength, ...(floor ? { floor } : {}), ...(attributeCoverage ? { coverage: attributeCoverage } : {}) }, null, 2)}\n`);
          return;
        }
        const f = (x: number, digits = 4) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(digits));
        const lines = [
          `${model.path} vs ${flags.data} (${metrics.dataSplit === "holdout" ? "held-out" : "training"} images: ${metrics.dataCount}), ${metrics.count} faces at psi ${metrics.psi}, noise strength ${noiseStrength}`,
          ...FormatTable([
            ["fd", f(metrics.fd)],
            ["kid", `${f(metrics.kid)} ± ${f(metrics.kidStd, 2)}`],
            ["diversity", `${f(metrics.diversityRatio, 3)} (generated ${f(metrics.diversityGenerated)} / data ${f(metrics.diversityData)})${metrics.collapsed ? "  LIKELY MODE COLLAPSE" : ""}`],
            ["precision", `${f(metrics.precision, 3)}${floor ? ` (real vs real ${f(floor.precision, 3)})` : ""}  k=${metrics.k}`],
            ["recall", `${f(metrics.recall, 3)}${floor ? ` (real vs real ${f(floor.recall, 3)})` : ""}`],
            ...(floor ? [["floor", `fd ${f(floor.fd)}, kid ${f(floor.kid)}, diversity ${f(floor.diversityRatio, 3)} (${floor.count} training vs ${floor.dataCount} held-out images)`]] : []),
            ["features", `${metrics.featureNet} (not the standard FID network: compare only with npc-faces metrics figures)`],
            ["time", `${(metrics.seconds + (floor?.seconds ?? 0) + (attributeCoverage?.seconds ?? 0)).toFixed(1)} s`],
          ], "  "),
        ];
        for (const [attribute, values] of Object.entries(metrics.recallByLabel ?? {})) {
          lines.push(`recall by ${attribute} (lowest first; images): ${values.map((v) => `${v.value} ${f(v.recall, 2)} (${v.images})`).join(", ")}`);
        }
        if (attributeCoverage) lines.push(...FormatCoverageTable(attributeCoverage));
        if (flags.coverage && !coverage) lines.push("note: the attribute coverage needs held-out images (build the data set with --holdout 0.05); skipped");
        if (metrics.dataSplit === "train") lines.push("note: the data set holds out no images, so the figures also reward memorising the training images");
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        await generator.disposeAsync();
      }
    });
}
