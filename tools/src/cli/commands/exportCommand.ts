/**
 * `npc-faces export`: writes a model file (the ONNX contract, docs/model-format.md). The weights come from a
 * training run's checkpoint (`--run RUN`, with label and SeFa controls; `--data` adds the data set's licence,
 * credits and label mix) or from `--untrained` (fresh, seeded initialisation, for plumbing tests).
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Command, Option } from "commander";
import type { ExportRunDataset } from "@npc-faces/trainer";
import { ReadDatasetAsync } from "../../dataset/datasetManifest.js";
import { FormerDatasetContentHashes } from "../../dataset/packedDataset.js";
import { LabelVector, MeanTrainingLabels } from "../../training/loadTrainingData.js";
import { IsNpcFacesError, ReadModelFile, Sha256HexAsync, VerifyModelIntegrityAsync } from "@npc-faces/runtime";
import { EnsureFolderAsync, WriteFileAtomicAsync } from "../../bake/atomicWrite.js";
import { ToolLabel } from "../../toolInfo.js";
import { IntegerParser, NumberInRangeParser, ParseSeed } from "../argParsers.js";
import { CliFailure, CliUsageError } from "../cliErrors.js";
import { FormatBytes, JsonHelp, WriteJsonResult } from "../cliFormat.js";

/** Preset names, kept here so `--help` needs no trainer import (the trainer loads tfjs: slow to start). */
export const PresetNames = ["tiny", "tinyfine", "npc64", "npc64wide", "npc64fine", "npc128", "game64", "game128", "paper256"];

/** Parsed flags of `npc-faces export`. */
interface ExportFlags {
  untrained?: boolean;
  run?: string;
  snapshot?: string;
  stamp?: string;
  data?: string;
  preset?: string;
  out: string;
  seed: number;
  controls: number;
  fp16?: boolean;
  name?: string;
  noiseStrength: number;
  truncationCentre?: "average" | "labels";
  labelTableRows: number;
  json?: boolean;
}

/** `npc-faces export`: see its `--help` and docs/cli.md. */
export function ExportCommand(): Command {
  return new Command("export")
    .summary("write a model file (.onnx)")
    .description(
      "Writes an npc-faces model file: the generator as one ONNX graph plus its metadata document (see docs/model-format.md).\n\n" +
        "Choose where the weights come from: --untrained initialises them from --seed (the faces are noise; for testing the pipeline). " +
        "The controls are the model's strongest unsupervised directions (SeFa), named direction_0, direction_1, ... " +
        "Every export records a digest of its graph (weights included) that loading checks; --stamp adds one to an older file.",
    )
    .addOption(new Option("--untrained", "use freshly initialised weights (needs --preset)"))
    .addOption(new Option("--run <dir>", "export a training run's latest checkpoint").conflicts("untrained"))
    .addOption(new Option("--snapshot <kimg>", "with --run: export the run's kept snapshot at that kimg, to the decimals given (12 finds 12.008; or its folder name, kimg-000012.008), instead of its latest checkpoint (see train --keep-snapshots)").conflicts(["untrained", "stamp"]))
    .addOption(new Option("--stamp <model>", "write a copy of an existing model file with its integrity digest added (for files exported before digests existed; the faces do not change)").conflicts(["untrained", "run"]))
    .addOption(new Option("--data <dir>", "with --run: the data set the run trained on; its licence and credits go into the model, and its label mix is the reference of the label controls (default: uniform per label)").conflicts("untrained"))
    .addOption(new Option("--preset <name>", "generator configuration (with --untrained)").choices(PresetNames))
    .requiredOption("--out <file>", "model file to write (.onnx; parent folders are created; an existing file is replaced)")
    .addOption(new Option("--seed <seed>", "seed of the initial weights (with --untrained)").default(0).argParser(ParseSeed))
    .addOption(new Option("--controls <count>", "number of unsupervised control directions (SeFa), 0..wDim").default(4).argParser(IntegerParser(0, 100000)))
    .option("--fp16", "store weights as float16 (half the file; outputs differ slightly) (default: float32)")
    .option("--name <name>", "model name written to the metadata (default: <preset>-untrained)")
    .addOption(
      new Option("--noise-strength <x>", "the model's default noise multiplier (0..4; what faces get when a request sets none; 0 = smooth, 1 = the noise as trained)")
        .default(1)
        .argParser(NumberInRangeParser(0, 4)),
    )
    .addOption(
      new Option("--truncation-centre <centre>", "what psi < 1 pulls a face toward: average = the mean face over all labels, labels = the mean face of the face's own labels (conditional models; keeps requested and rare label values, e.g. eye styles, at psi 0.7) (default: labels for a conditional run, average otherwise)")
        .choices(["average", "labels"])
        .conflicts("stamp"),
    )
    .addOption(
      new Option("--label-table-rows <n>", "with --run and --data of a conditional run: how many of the training split's label vectors the model keeps for faces to draw their unset labels from (more rows follow the data's label mix more closely, a rare accessory say, and make the file larger)")
        .default(512)
        .argParser(IntegerParser(1, 65536)),
    )
    .option("--json", JsonHelp)
    .addHelpText("after", "\nExamples:\n  npc-faces export --preset tiny --untrained --out models/tiny.onnx\n  npc-faces export --preset game64 --untrained --seed 7 --controls 8 --fp16 --out game64.onnx")
    .action(async (flags: ExportFlags) => {
      await RunExportAsync(flags);
    });
}

async function RunExportAsync(flags: ExportFlags): Promise<void> {
  // What the runtime feeds a request that sets neither (psi 0.7 as every export; the noise strength as asked).
  const defaults = { psi: 0.7, noiseStrength: flags.noiseStrength };
  if (flags.stamp !== undefined) {
    await StampModelAsync(flags.stamp, resolve(flags.out), flags.json === true);
    return;
  }
  if (flags.run !== undefined) {
    // A training run's EMA generator with label + SeFa controls (trainer/src/training/exportRun.ts).
    const trainer = await import("@npc-faces/trainer");
    await InitializeTfjsAsync(trainer);
    const dataset = flags.data === undefined ? undefined : await RunDatasetAsync(flags.data);
    // A kept snapshot folder holds a checkpoint under the run's own file name, so it exports as a run.
    let runDir = resolve(flags.run);
    if (flags.snapshot !== undefined) {
      const { ResolveRunSnapshotAsync } = await import("../../training/runSnapshots.js");
      runDir = (await ResolveRunSnapshotAsync(runDir, flags.snapshot).catch((error: Error) => {
        throw new CliFailure(error.message);
      })).dir;
    }
    const bytes = await trainer.ExportRunAsync(runDir, {
      name: flags.name,
      unsupervisedControls: flags.controls,
      weightType: flags.fp16 ? "float16" : "float32",
      dataset,
      defaults,
      truncationCentre: flags.truncationCentre,
      labelTableRows: flags.labelTableRows,
    }).catch((error: Error) => {
      throw new CliFailure(error.message);
    });
    ReadModelFile(bytes, "exported model");
    await EnsureFolderAsync(dirname(resolve(flags.out)));
    await WriteFileAtomicAsync(resolve(flags.out), bytes);
    if (flags.json) {
      WriteJsonResult("export", { mode: "run", run: resolve(flags.run), ...(flags.snapshot === undefined ? {} : { snapshot: runDir }), ...(await ModelFileFacts(resolve(flags.out), bytes)) });
      return;
    }
    process.stdout.write(`exported run ${flags.run}${flags.snapshot === undefined ? "" : ` (snapshot ${runDir})`} to ${resolve(flags.out)}: ${FormatBytes(bytes.length)}\n`);
    return;
  }
  if (flags.snapshot !== undefined) throw new CliUsageError("--snapshot needs --run <dir>");
  if (!flags.untrained) throw new CliUsageError("choose the weights: --run <dir> (a training run) or --untrained");
  if (flags.preset === undefined) throw new CliUsageError("--untrained needs --preset <name> (one of " + PresetNames.join(", ") + ")");
  if (flags.name !== undefined && flags.name.trim() === "") throw new CliUsageError("--name: expected a non-empty name");
  if (flags.truncationCentre === "labels") throw new CliUsageError("--truncation-centre labels needs --run of a conditional model (untrained presets have no labels)");
  const out = resolve(flags.out);
  const { CheckOutputFolderAsync, OutputFolderError } = await import("../../bake/bakeSeeds.js");
  try {
    // The file's folder may not exist yet: check the folder that would hold it.
    await CheckOutputFolderAsync(dirname(out));
    await CheckNotAFolderAsync(out);
  } catch (error) {
    if (error instanceof OutputFolderError) throw new CliFailure(`--out: ${error.message}`);
    throw error;
  }

  // Loaded on demand: the trainer pulls in tfjs, which other commands do not need.
  const trainer = await import("@npc-faces/trainer");
  const config = trainer.GetGeneratorPreset(flags.preset);
  if (flags.controls > config.wDim) {
    throw new CliUsageError(`--controls: expected at most ${config.wDim} (the preset's w size), got ${flags.controls}`);
  }
  const started = performance.now();
  const weights = trainer.InitializeGeneratorWeights(config, flags.seed);
  // An untrained model's w_avg is 0 until training tracks it; estimate it so truncation pulls toward a real centre.
  await InitializeTfjsAsync(trainer);
  weights.set("mapping.w_avg", trainer.EstimateWAvg(config, weights));
  const controls = trainer.UnsupervisedControls(config, weights, flags.controls);
  const name = flags.name ?? `${flags.preset}-untrained`;
  const bytes = trainer.ExportGeneratorOnnx({
    config,
    weights,
    name,
    controls,
    provenance: { trained: false, licenses: [], credits: [], kimg: 0, tool: ToolLabel, notes: "untrained: random weights, for plumbing tests" },
    defaults,
    weightType: flags.fp16 ? "float16" : "float32",
  });
  // Never write a file the runtime would refuse.
  ReadModelFile(bytes, "exported model");
  try {
    await EnsureFolderAsync(dirname(out));
  } catch (error) {
    throw new CliFailure(`--out: ${(error as Error).message}`);
  }
  await WriteFileAtomicAsync(out, bytes);
  const hash = await Sha256HexAsync(bytes);
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    WriteJsonResult("export", { mode: "untrained", preset: flags.preset, seed: flags.seed, weightType: flags.fp16 ? "float16" : "float32", ...(await ModelFileFacts(out, bytes)), seconds });
    return;
  }
  process.stdout.write(
    `exported "${name}" (${config.resolution}x${config.resolution}, ${controls.length} control${controls.length === 1 ? "" : "s"}, ` +
      `${flags.fp16 ? "float16" : "float32"} weights, untrained seed ${flags.seed}) to ${out}: ${FormatBytes(bytes.length)}, sha256 ${hash.slice(0, 12)}, ${seconds.toFixed(1)} s\n`,
  );
}

/**
 * `export --stamp`: the same model with `integrity.graphSha256` in its metadata. A file that already has a digest
 * is checked first: a damaged one is refused rather than blessed with a new digest.
 */
async function StampModelAsync(path: string, out: string, json: boolean): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new CliFailure(`--stamp ${path}: cannot read the model file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const { onnx, metadata } = ReadModelFile(bytes, path);
    await VerifyModelIntegrityAsync(bytes, onnx, metadata, path);
  } catch (error) {
    if (IsNpcFacesError(error)) throw new CliFailure(`--stamp ${error.message}`);
    throw error;
  }
  // Not the trainer's writer: stamping is part of the light install (no tfjs, no onnx-proto).
  const { StampModelDigest } = await import("../../model/stampModelDigest.js");
  const stamped = StampModelDigest(bytes);
  ReadModelFile(stamped, "stamped model");
  try {
    await EnsureFolderAsync(dirname(out));
  } catch (error) {
    throw new CliFailure(`--out: ${(error as Error).message}`);
  }
  await WriteFileAtomicAsync(out, stamped);
  if (json) {
    WriteJsonResult("export", { mode: "stamp", source: resolve(path), ...(await ModelFileFacts(out, stamped)) });
    return;
  }
  process.stdout.write(`stamped ${path} with its graph digest to ${out}: ${FormatBytes(stamped.length)}, sha256 ${(await Sha256HexAsync(stamped)).slice(0, 12)}\n`);
}

/** The `--data` set of `export --run`: licence, credits and labels (the trainer checks its hash against the run's). */
async function RunDatasetAsync(dir: string): Promise<ExportRunDataset> {
  const manifest = await ReadDatasetAsync(resolve(dir)).catch((error: Error) => {
    throw new CliFailure(`--data ${dir}: ${error.message}`);
  });
  return {
    id: manifest.contentHash,
    formerIds: FormerDatasetContentHashes(manifest),
    licenses: [manifest.licence.url ? `${manifest.licence.name} (${manifest.licence.url})` : manifest.licence.name],
    credits: manifest.licence.credits ? [manifest.licence.credits] : [],
    labelMean: (columns) => MeanTrainingLabels(manifest, columns),
    binaryLabels: Object.keys(manifest.labelSchema.numeric).filter((name) =>
      manifest.images.every((entry) => entry.split !== "train" || entry.numeric[name] === undefined || entry.numeric[name] === 0 || entry.numeric[name] === 1),
    ),
    trainingLabels: (columns) => manifest.images.filter((entry) => entry.split === "train").map((entry) => LabelVector(manifest, entry, columns)),
  };
}

/** What `--json` reports of a written model file (its metadata as the runtime reads it). */
async function ModelFileFacts(file: string, bytes: Uint8Array): Promise<Record<string, unknown>> {
  const { metadata } = ReadModelFile(bytes, file);
  return {
    file,
    bytes: bytes.length,
    sha256: await Sha256HexAsync(bytes),
    name: metadata.name,
    resolution: metadata.resolution,
    controls: metadata.controls.map((c) => c.name),
    graphSha256: metadata.integrity?.graphSha256 ?? null,
  };
}

async function CheckNotAFolderAsync(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) throw new CliFailure(`--out: ${path} is a folder; expected a file name such as ${path}/model.onnx`);
}

/** Picks the fast wasm backend for the w_avg estimate, falling back to pure JS. */
async function InitializeTfjsAsync(trainer: typeof import("@npc-faces/trainer")): Promise<void> {
  try {
    await trainer.InitializeTfjsBackendAsync("wasm");
  } catch {
    await trainer.InitializeTfjsBackendAsync("cpu");
  }
}
