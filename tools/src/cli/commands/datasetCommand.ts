/**
 * `npc-faces dataset`: builds a training data set of face images (facesjs, DiceBear styles, or a folder),
 * and `npc-faces dataset sheet DIR FILE` draws a contact sheet of one. See docs/datasets.md.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import cliProgress from "cli-progress";
import {
  BuildDatasetAsync,
  DatasetOptionsError,
  MaxDatasetCount,
  MaxResolution,
  MinResolution,
} from "../../dataset/buildDataset.js";
import { resolve } from "node:path";
import { WriteContactSheetAsync } from "../../dataset/contactSheet.js";
import { DatasetManifestFile } from "../../dataset/datasetManifest.js";
import { JsonHelp, WriteJsonResult } from "../cliFormat.js";
import { DefaultBackground, DicebearStyleNames, ParseBackground, ParseSourceText } from "../../dataset/datasetSources.js";
import { DefaultWorkerCount } from "../../dataset/datasetWorkerPool.js";
import { DefaultMinImageSize } from "../../dataset/folderSource.js";

function IntegerOption(name: string, min: number, max: number): (text: string) => number {
  return (text: string): number => {
    const trimmed = text.trim();
    const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}, got "${text}"`);
    return value;
  };
}

function ParseResolution(text: string): number {
  const value = IntegerOption("resolution", MinResolution, MaxResolution)(text);
  if ((value & (value - 1)) !== 0) throw new InvalidArgumentError(`resolution must be a power of two (${MinResolution}, 16, 32, ..., ${MaxResolution}), got ${value}`);
  return value;
}

function ParseFraction(text: string): number {
  const value = /^\s*(\d+\.?\d*|\.\d+)\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value < 1)) throw new InvalidArgumentError(`expected a fraction in [0, 1), e.g. 0.1, got "${text}"`);
  return value;
}

function Checked<T>(parse: (text: string) => T): (text: string) => T {
  return (text: string): T => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

interface BuildFlags {
  source?: string;
  count?: number;
  res: number;
  out?: string;
  seed: number;
  holdout: number;
  workers: number;
  background: string;
  fit: "crop" | "pad";
  minSize: number;
  pack: boolean;
  force: boolean;
  contactSheet?: string;
  licence?: string;
  credits?: string;
  progress: boolean;
  json?: boolean;
}

/** `npc-faces dataset`. */
export function DatasetCommand(): Command {
  const sources = `facesjs | ${DicebearStyleNames.map((s) => `dicebear:${s}`).join(" | ")} | folder:PATH`;
  const command = new Command("dataset")
    .summary("build a face data set for training")
    .description("Build a face data set (images + dataset.json with labels, licence and content hash) for training.")
    .addOption(new Option("--source <source>", `where faces come from: ${sources}`).argParser(Checked((t) => (ParseSourceText(t), t))))
    .addOption(new Option("--count <n>", "number of images (required for generators; folders: at most this many, default all)").argParser(IntegerOption("--count", 1, MaxDatasetCount)))
    .addOption(new Option("--res <px>", `image size, a power of two in ${MinResolution}..${MaxResolution}`).argParser(ParseResolution).default(64))
    .addOption(new Option("--out <dir>", "output folder (created atomically; must not exist, be empty, or be a data set with --force)"))
    .addOption(new Option("--seed <n>", "data-set seed; image i uses a seed derived from (seed, i)").argParser(IntegerOption("--seed", 0, 0xffffffff)).default(0))
    .addOption(new Option("--holdout <fraction>", "fraction of images set aside for evaluation, in [0, 1)").argParser(ParseFraction).default(0))
    .addOption(new Option("--workers <n>", "worker threads").argParser(IntegerOption("--workers", 1, 256)).default(DefaultWorkerCount(), "one per core"))
    .addOption(new Option("--background <colour>", "background: #rrggbb, or 'seeded' for a per-image colour from a fixed palette").argParser(Checked((t) => ParseBackground(t))).default(DefaultBackground))
    .addOption(new Option("--fit <mode>", "folder sources: make images square by centre crop or by padding").choices(["crop", "pad"]).default("crop"))
    .addOption(new Option("--min-size <px>", "folder sources: skip images whose shorter side is smaller").argParser(IntegerOption("--min-size", 1, 1 << 20)).default(DefaultMinImageSize))
    .addOption(new Option("--no-pack", "do not write images.npy (the packed N×R×R×3 uint8 tensor, NumPy format)"))
    .addOption(new Option("--force", "replace an existing complete data set at --out").default(false))
    .addOption(new Option("--contact-sheet <file>", "also write a grid PNG of the first 64 images"))
    .addOption(new Option("--licence <name>", "folder sources: licence of your images, recorded in dataset.json"))
    .addOption(new Option("--credits <text>", "folder sources: credit text, recorded in dataset.json"))
    .addOption(new Option("--no-progress", "no progress bar (it is drawn on stderr when that is a terminal)"))
    .option("--json", JsonHelp)
    .addHelpText(
      "after",
      `
Examples:
  npc-faces dataset --source dicebear:personas --count 1000 --res 64 --out data/personas --seed 7 --holdout 0.1
  npc-faces dataset --source folder:art/faces --res 128 --out data/studio --fit pad
  npc-faces dataset sheet data/personas personas.png

Same arguments give a byte-identical folder; the content hash printed at the end identifies it.`,
    )
    .action(async (flags: BuildFlags, cmd: Command) => {
      if (!flags.source) cmd.error("error: --source is required", { exitCode: 2 });
      if (!flags.out) cmd.error("error: --out is required", { exitCode: 2 });
      const controller = new AbortController();
      const onSignal = (): void => controller.abort(new Error("interrupted"));
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const bar = flags.progress
        ? new cliProgress.SingleBar(
            { stream: process.stderr, format: "dataset [{bar}] {value}/{total} {percentage}% | {rate} img/s | eta {eta_formatted}", hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : null;
      let barStarted = false;
      const started = performance.now();
      try {
        const result = await BuildDatasetAsync({
          source: flags.source!,
          count: flags.count,
          res: flags.res,
          out: flags.out!,
          seed: flags.seed,
          holdout: flags.holdout,
          workers: flags.workers,
          background: flags.background,
          fit: flags.fit,
          minSize: flags.minSize,
          pack: flags.pack,
          force: flags.force,
          licence: flags.licence,
          credits: flags.credits,
          signal: controller.signal,
          onProgress: (done, total) => {
            if (!bar) return;
            if (!barStarted) {
              bar.start(total, 0, { rate: "0" });
              barStarted = true;
            }
            bar.update(done, { rate: (done / Math.max(1e-3, (performance.now() - started) / 1000)).toFixed(0) });
          },
        });
        bar?.stop();
        barStarted = false;
        const m = result.manifest;
        if (flags.json) {
          const sheet = flags.contactSheet ? await WriteContactSheetAsync(result.dir, flags.contactSheet) : undefined;
          WriteJsonResult("dataset", {
            dir: resolve(result.dir),
            manifestFile: resolve(result.dir, DatasetManifestFile),
            count: m.count,
            resolution: m.resolution,
            source: m.source.spec,
            train: m.count - m.holdout.count,
            holdout: m.holdout.count,
            ...(m.source.kind === "folder" ? { skipped: m.skipped } : {}),
            packed: m.packed ? { file: resolve(result.dir, m.packed.file), shape: m.packed.shape } : null,
            labels: Object.keys(m.labelSchema.categorical),
            ...(sheet ? { contactSheet: { file: resolve(sheet.file), images: sheet.images, width: sheet.width, height: sheet.height } } : {}),
            contentHash: `sha256:${result.contentHash}`,
            licence: m.licence,
            seconds: result.seconds,
            workerThreads: result.workerThreads,
          });
          return;
        }
        const lines = [
          `dataset: ${m.count} images ${m.resolution}×${m.resolution} from ${m.source.spec} → ${result.dir}`,
          `time: ${result.seconds.toFixed(1)} s (${(m.count / result.seconds).toFixed(0)} images/s, ${result.workerThreads || 1} ${result.workerThreads ? "worker threads" : "thread"})`,
          `split: ${m.count - m.holdout.count} train, ${m.holdout.count} holdout`,
        ];
        if (m.source.kind === "folder") lines.push(`skipped: ${m.skipped.unreadable} unreadable, ${m.skipped.tiny} tiny, ${m.skipped.duplicate} duplicates`);
        if (m.packed) lines.push(`packed: ${m.packed.file} uint8 [${m.packed.shape.join(", ")}]`);
        const labels = Object.keys(m.labelSchema.categorical);
        if (labels.length > 0) lines.push(`labels: ${labels.join(", ")}`);
        if (flags.contactSheet) {
          const sheet = await WriteContactSheetAsync(result.dir, flags.contactSheet);
          lines.push(`contact sheet: ${sheet.file} (${sheet.images} images, ${sheet.width}×${sheet.height})`);
        }
        lines.push(`content hash: sha256:${result.contentHash}`);
        lines.push(`licence: ${m.licence.name}${m.licence.attributionRequired ? " (attribution required)" : ""}`);
        lines.push(`credits: ${m.licence.credits}`);
        process.stdout.write(`${lines.join("\n")}\n`);
      } catch (error) {
        if (barStarted) bar?.stop();
        if (error instanceof DatasetOptionsError) cmd.error(`error: ${error.message}`, { exitCode: 2 });
        if (controller.signal.aborted) {
          process.stderr.write("npc-faces dataset: interrupted; nothing was written\n");
          process.exitCode = 130;
          return;
        }
        throw error;
      } finally {
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
      }
    });

  command
    .command("sheet")
    .description("Write a contact sheet (grid PNG) of a data set's first images.")
    .argument("<dir>", "data-set folder (with dataset.json)")
    .argument("<file>", "PNG file to write")
    .addOption(new Option("--max <n>", "most images shown").argParser(IntegerOption("--max", 1, 10000)).default(64))
    .addOption(new Option("--columns <n>", "columns (default: square grid)").argParser(IntegerOption("--columns", 1, 1000)))
    .option("--json", JsonHelp)
    .action(async (dir: string, file: string, flags: { max: number; columns?: number }, sub: Command) => {
      const sheet = await WriteContactSheetAsync(dir, file, { maxImages: flags.max, columns: flags.columns });
      // `dataset` has --json too and takes it wherever it is written: read both levels.
      if (sub.optsWithGlobals<{ json?: boolean }>().json) {
        WriteJsonResult("dataset sheet", { dir: resolve(dir), file: resolve(sheet.file), images: sheet.images, width: sheet.width, height: sheet.height });
        return;
      }
      process.stdout.write(`contact sheet: ${sheet.file} (${sheet.images} images, ${sheet.width}×${sheet.height})\n`);
    });
  return command;
}
