/**
 * `npc-faces nearest --data DIR --out F.png`: the memorisation check. Generates --count faces, finds each
 * one's nearest training image of the data set, and compares those distances with held-out real images'
 * (see evaluation/memorisationCheck.ts); writes the pairs side by side into F.png and a legend F.json.
 */
import type { FaceEngine } from "@npc-faces/runtime/node";
import { Command, Option } from "commander";
import { basename, dirname, resolve } from "node:path";
import { EngineOption, IntegerParser, NumberInRangeParser, ParseFiniteNumber, ParseSeed } from "../argParsers.js";
import { CliFailure, CliUsageError } from "../cliErrors.js";
import { FormatTable, PhaseProgressLine } from "../cliFormat.js";

/** Parsed flags of `npc-faces nearest`. */
interface NearestFlags {
  engine: FaceEngine;
  model?: string;
  data: string;
  out: string;
  count: number;
  firstSeed: number;
  psi: number;
  duplicateThreshold: number;
  scale: number;
  json?: boolean;
}

/** `npc-faces nearest`: see its `--help` and docs/evaluation.md. */
export function NearestCommand(): Command {
  return new Command("nearest")
    .summary("memorisation check: each generated face next to its nearest training image (PNG + legend JSON)")
    .description(
      "Generates --count faces (seeds from --first-seed) and finds, for each, the nearest image of the data set's whole training split: " +
        "images area-averaged to 32x32 RGB, Euclidean distance, reported as the RMS difference per pixel channel on the 0..255 scale. " +
        "The same distance for as many of the data set's held-out images (new draws of the source, so not copies) is the reference: " +
        "generated faces about as far from the training images as held-out ones (ratio of medians ~1 or more) are not copies; " +
        "a copy would be at ~0. Writes the pairs (generated | nearest training image, 4 pairs per row) to --out and a legend " +
        "(seeds, files, distances, summary) to the same name with .json. See docs/evaluation.md.",
    )
    .option("--model <file>", "model file (.onnx) (default: the bundled default model)")
    .requiredOption("--data <dir>", "the data set the model was trained on (from `npc-faces dataset`)")
    .requiredOption("--out <file.png>", "the side-by-side sheet; the legend goes next to it with .json")
    .addOption(new Option("--count <n>", "generated faces, and most held-out images compared").default(16).argParser(IntegerParser(1, 1024)))
    .addOption(new Option("--first-seed <seed>", "seed of the first generated face").default(0).argParser(ParseSeed))
    .addOption(new Option("--psi <x>", "truncation of the generated faces (1 = the full distribution)").default(1).argParser(ParseFiniteNumber))
    .addOption(new Option("--duplicate-threshold <d>", "distance (RMS, 0..255) below which a pair counts as an exact duplicate").default(2).argParser(NumberInRangeParser(0, 255)))
    .addOption(new Option("--scale <n>", "sheet cells are the larger image side times this (nearest pixel)").default(2).argParser(IntegerParser(1, 8)))
    .option("--json", "print the legend JSON instead of the summary")
    .addOption(EngineOption())
    .addHelpText("after", "\nExamples:\n  npc-faces nearest --data data/facesjs64 --out sheets/nearest.png\n  npc-faces nearest --model runs/default/model.onnx --data data/facesjs64 --out nearest.png --count 32 --json")
    .action(async (flags: NearestFlags) => {
      const out = resolve(flags.out);
      if (!/\.png$/i.test(out)) throw new CliUsageError(`--out ${flags.out}: expected a .png file name (the legend goes next to it as .json)`);
      const legendPath = out.replace(/\.png$/i, ".json");
      const { OpenMetricsDataAsync } = await import("../../metrics/modelMetrics.js");
      const { LoadModelForCliAsync, ModelOrDefault } = await import("../loadModelForCli.js");
      const { FindNearestTrainingImagesAsync } = await import("../../evaluation/memorisationCheck.js");
      const { RenderPairSheet } = await import("../../evaluation/pairSheet.js");
      const { EnsureFolderAsync, WriteFileAtomicAsync } = await import("../../bake/atomicWrite.js");
      const sharp = (await import("sharp")).default;

      // Every input is checked before the slow part; nothing is written on a bad input.
      const dataset = await OpenMetricsDataAsync(flags.data).catch((error: unknown) => {
        throw new CliFailure((error as Error).message);
      });
      const model = ModelOrDefault("--model", flags.model);
      try {
        if (!dataset.manifest.images.some((e) => e.split === "train")) throw new CliFailure(`--data ${flags.data}: the data set has no training images`);
        const generator = await LoadModelForCliAsync(model, { engine: flags.engine });
        const progress = PhaseProgressLine();
        let result;
        try {
          result = await FindNearestTrainingImagesAsync({
            generator, dataset, count: flags.count, firstSeed: flags.firstSeed, psi: flags.psi, duplicateThreshold: flags.duplicateThreshold, onProgress: progress,
          });
        } finally {
          await generator.disposeAsync();
        }
        const sheet = RenderPairSheet(
          result.generated.map((_, i) => [
            { pixels: result.generatedPixels[i], side: generator.resolution, channels: 4 },
            { pixels: result.nearestPixels[i], side: dataset.resolution, channels: 3 },
          ] as const),
          { pairsPerRow: 4, cell: Math.max(generator.resolution, dataset.resolution) * flags.scale },
        );
        const round = (x: number) => Math.round(x * 1000) / 1000;
        const summary = {
          ...result.summary,
          generated: RoundSummary(result.summary.generated, round),
          heldOut: result.summary.heldOut ? RoundSummary(result.summary.heldOut, round) : null,
          medianRatio: result.summary.medianRatio === null ? null : round(result.summary.medianRatio),
          minRatio: result.summary.minRatio === null ? null : round(result.summary.minRatio),
        };
        const legend = {
          sheet: basename(out),
          model: { path: model.path, name: generator.metadata.name, sha256: generator.modelHash },
          data: { path: flags.data, contentHash: dataset.manifest.contentHash, trainImages: result.trainImages },
          feature: `${result.featureRes}x${result.featureRes} RGB, area-averaged; distance = RMS difference per pixel channel, 0..255 scale`,
          psi: result.psi,
          layout: { pairsPerRow: 4, cell: Math.max(generator.resolution, dataset.resolution) * flags.scale, order: "reading order; each pair: generated face (left) | nearest training image (right)" },
          pairs: result.generated.map((g) => ({ seed: g.seed, nearest: g.nearest.file, nearestIndex: g.nearest.index, distance: round(g.nearest.distance) })),
          heldOut: result.heldOut.map((h) => ({ file: h.file, nearest: h.nearest.file, distance: round(h.nearest.distance) })),
          summary,
        };
        const png = await sharp(sheet.rgb, { raw: { width: sheet.width, height: sheet.height, channels: 3 } }).png().toBuffer();
        try {
          await EnsureFolderAsync(dirname(out));
          await WriteFileAtomicAsync(out, png);
          await WriteFileAtomicAsync(legendPath, new TextEncoder().encode(`${JSON.stringify(legend, null, 2)}\n`));
        } catch (error) {
          throw new CliFailure(`--out ${flags.out}: ${(error as Error).message}`);
        }
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(legend, null, 2)}\n`);
          return;
        }
        const f = (x: number) => x.toFixed(2);
        const s = result.summary;
        const lines = [
          `${model.path}: ${flags.count} faces (seeds ${flags.firstSeed}-${flags.firstSeed + flags.count - 1}, psi ${result.psi}) vs ${result.trainImages} training images of ${flags.data}`,
          `distance to the nearest training image (${result.featureRes}x${result.featureRes} RGB, RMS per channel, 0..255):`,
          ...FormatTable([
            ["", "median", "min", "mean", "max"],
            ["generated", f(s.generated.median), f(s.generated.min), f(s.generated.mean), f(s.generated.max)],
            ...(s.heldOut ? [[`held-out (${s.heldOut.count})`, f(s.heldOut.median), f(s.heldOut.min), f(s.heldOut.mean), f(s.heldOut.max)]] : []),
          ], "  "),
          s.medianRatio !== null ? `ratio generated/held-out: median ${s.medianRatio.toFixed(2)}, min ${s.minRatio === null ? "n/a" : s.minRatio.toFixed(2)} (about 1 or more: no sign of copying; a copy is at ~0)` : "no held-out images in the data set: no reference distances",
          `exact duplicates (distance < ${s.duplicateThreshold}): ${s.duplicates} of ${s.generated.count} generated${s.heldOutDuplicates !== null ? `, ${s.heldOutDuplicates} of ${s.heldOut!.count} held-out` : ""}`,
          `wrote ${out} (${sheet.width}x${sheet.height}) and ${legendPath}`,
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        await dataset.CloseAsync();
      }
    });
}

function RoundSummary<T extends object>(summary: T, round: (x: number) => number): T {
  return Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, k === "count" ? v : round(v as number)])) as T;
}
