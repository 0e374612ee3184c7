/**
 * `npc-faces bake`: one PNG per seed, with provenance text chunks. The work itself lives in ../../bake/; this
 * file parses flags, validates everything (model included) before the output folder is touched, and reports.
 */
import { Command, Option } from "commander";
import cliProgress from "cli-progress";
import { IsNpcFacesError, type ModelMetadata } from "@npc-faces/runtime";
import type { BakeOptions, BakePlan } from "../../bake/bakeSeeds.js";
import { FormatSeedList } from "../../bake/seedList.js";
import { ToolName } from "../../toolInfo.js";
import { CollectControl, IntegerParser, NumberInRangeParser, ParseFiniteNumber, ParseSeed, ParseSeedListArgument } from "../argParsers.js";
import { CliFailure, CliInterrupted, CliUsageError } from "../cliErrors.js";
import { FormatBytes } from "../cliFormat.js";

/** Parsed flags of `npc-faces bake`. */
interface BakeFlags {
  model: string;
  seeds: number[];
  out: string;
  psi?: number;
  noiseStrength?: number;
  mixSeed?: number;
  mix?: number;
  crossover?: number;
  control?: Record<string, number>;
  size?: number;
  batch: number;
  threads?: number;
  progress: boolean;
}

/** Largest --size (as `MaxBakeSize` of ../../bake/bakeSeeds.ts, which is loaded only when a bake runs). */
const MaxSize = 4096;

/** The flag behind each bake option, for messages. */
const FlagOf: Record<keyof BakeOptions, string> = {
  seeds: "--seeds",
  outDir: "--out",
  psi: "--psi",
  noiseStrength: "--noise-strength",
  mixSeed: "--mix-seed",
  mix: "--mix",
  crossover: "--crossover",
  controls: "--control",
  size: "--size",
};

/** `npc-faces bake`: see its `--help` and docs/cli.md. */
export function BakeCommand(): Command {
  return new Command("bake")
    .summary("bake faces into PNG files with provenance")
    .description(
      "Generates one face per seed and writes it to <out>/face-<seed>.png, replacing a file of that name. " +
        "Every PNG carries provenance text chunks: tool and version, model name and SHA-256, seed and every parameter (see docs/cli.md).\n\n" +
        "Everything (model, seeds, controls, output folder) is checked before the first file is written. " +
        "Exit status: 0 done, 1 failure (bad model file, unwritable folder), 2 bad flags or values.",
    )
    .requiredOption("--model <file>", "model file (.onnx) made by `npc-faces export`")
    .requiredOption("--seeds <list>", "seeds and inclusive ranges, e.g. 1-16,20,30-32 (integers in 0..4294967295)", ParseSeedListArgument)
    .requiredOption("--out <dir>", "output folder (created if missing)")
    .option("--psi <number>", "truncation toward the average face: 1 = none, 0 = the average face (default: the model's, 0.7 for exported models)", ParseFiniteNumber)
    .option("--noise-strength <number>", "multiplier of the per-layer noise, 0 = smooth (default: the model's, 1 for exported models)", ParseFiniteNumber)
    .option("--mix-seed <seed>", "breed every face with the face of this seed (style mixing)", ParseSeed)
    .option("--mix <amount>", "how much of the mix seed's style the mixed layers take, 0..1 (default: 1; needs --mix-seed)", NumberInRangeParser(0, 1))
    .option("--crossover <layer>", "first style layer taken from the mix seed; lower layers keep coarse features (pose, shape) (default: 0 = all layers; needs --mix-seed)", IntegerParser(0, 1024))
    .option("--control <name=value>", "set a named control, repeatable (default: each control's default; `npc-faces info` lists names and ranges)", CollectControl)
    .option("--size <pixels>", `side of the written images, resampled with lanczos3 (default: the model's resolution; max ${MaxSize})`, IntegerParser(1, MaxSize))
    .addOption(new Option("--batch <count>", "faces per inference run (1..256)").default(8).argParser(IntegerParser(1, 256)))
    .addOption(new Option("--threads <count>", "onnxruntime threads per operator (default: onnxruntime's choice, the number of physical cores)").argParser(IntegerParser(1, 1024)))
    .option("--no-progress", "no progress bar (it is only shown when stderr is a terminal)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  npc-faces bake --model faces.onnx --seeds 1-16 --out textures/\n" +
        "  npc-faces bake --model faces.onnx --seeds 7,42 --out out/ --psi 0.5 --control direction_0=1.5 --size 256\n" +
        "  npc-faces bake --model faces.onnx --seeds 1-8 --out kids/ --mix-seed 99 --crossover 4",
    )
    .action(async (flags: BakeFlags) => {
      await RunBakeAsync(flags);
    });
}

async function RunBakeAsync(flags: BakeFlags): Promise<void> {
  // Flag combinations first: they need no model.
  if (flags.mixSeed === undefined) {
    if (flags.mix !== undefined) throw new CliUsageError("--mix needs --mix-seed (the face to mix with)");
    if (flags.crossover !== undefined) throw new CliUsageError("--crossover needs --mix-seed (the face to mix with)");
  }
  // Heavy modules (onnxruntime, sharp) load only now: `--help` and flag errors stay fast.
  const [{ BakeInputError, BakeSeedsAsync, CheckOutputFolderAsync, OutputFolderError, PlanBake }, { RemovePendingTempFilesSync }, { LoadModelForCliAsync }] = await Promise.all([
    import("../../bake/bakeSeeds.js"),
    import("../../bake/atomicWrite.js"),
    import("../loadModelForCli.js"),
  ]);
  const generator = await LoadModelForCliAsync("--model", flags.model, { maxBatch: flags.batch, threads: flags.threads });
  try {
    const options: BakeOptions = {
      seeds: flags.seeds,
      outDir: flags.out,
      ...(flags.psi !== undefined ? { psi: flags.psi } : {}),
      ...(flags.noiseStrength !== undefined ? { noiseStrength: flags.noiseStrength } : {}),
      ...(flags.mixSeed !== undefined ? { mixSeed: flags.mixSeed } : {}),
      ...(flags.mix !== undefined ? { mix: flags.mix } : {}),
      ...(flags.crossover !== undefined ? { crossover: flags.crossover } : {}),
      ...(flags.control !== undefined ? { controls: flags.control } : {}),
      ...(flags.size !== undefined ? { size: flags.size } : {}),
    };
    let plan: BakePlan;
    try {
      plan = PlanBake(generator.metadata, options);
    } catch (error) {
      if (error instanceof BakeInputError) throw new CliUsageError(`${FlagOf[error.field]}: ${error.detail}`);
      if (IsNpcFacesError(error, "BAD_REQUEST")) throw new CliUsageError(error.message);
      throw error;
    }
    WarnOutOfRange(generator.metadata, flags.control ?? {});
    try {
      await CheckOutputFolderAsync(flags.out);
    } catch (error) {
      if (error instanceof OutputFolderError) throw new CliFailure(`--out: ${error.message}`);
      throw error;
    }

    const total = plan.seeds.length;
    const bar =
      flags.progress && process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              stream: process.stderr,
              format: "bake |{bar}| {value}/{total} faces | {speed} faces/s | ETA {eta_formatted}",
              hideCursor: true,
              clearOnComplete: true,
              etaBuffer: 32,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    // Ctrl-C stops after the file being written (so no half-written temporary file is left); a second Ctrl-C
    // exits at once, removing the temporary file of the write in progress.
    const interrupt = new AbortController();
    const onInterrupt = (): void => {
      if (!interrupt.signal.aborted) {
        interrupt.abort(new CliInterrupted("interrupted; the files written so far are complete"));
        return;
      }
      bar?.stop();
      RemovePendingTempFilesSync();
      process.stderr.write(`${ToolName}: error: interrupted\n`);
      process.exit(130);
    };
    process.on("SIGINT", onInterrupt);
    const started = performance.now();
    bar?.start(total, 0, { speed: "0.0" });
    let summary;
    try {
      summary = await BakeSeedsAsync(generator, plan, {
        batchSize: flags.batch,
        signal: interrupt.signal,
        onProgress: ({ done }) => {
          const seconds = (performance.now() - started) / 1000;
          bar?.update(done, { speed: seconds > 0 ? (done / seconds).toFixed(1) : "0.0" });
        },
      });
    } catch (error) {
      if (error instanceof OutputFolderError) throw new CliFailure(`--out: ${error.message}`);
      throw error;
    } finally {
      process.off("SIGINT", onInterrupt);
      bar?.stop();
    }
    const rate = summary.seconds > 0 ? summary.count / summary.seconds : 0;
    const size = plan.params.size;
    process.stdout.write(
      `baked ${summary.count} face${summary.count === 1 ? "" : "s"} (seeds ${Abbreviate(FormatSeedList(plan.seeds))}, ${size}x${size}) ` +
        `into ${plan.outDir} in ${summary.seconds.toFixed(2)} s (${rate.toFixed(1)} faces/s, ${FormatBytes(summary.bytes)}); ` +
        `model "${generator.metadata.name}" sha256 ${generator.modelHash.slice(0, 12)}\n`,
    );
  } finally {
    await generator.disposeAsync();
  }
}

/** Values outside a control's range extrapolate: allowed, but worth a warning. */
function WarnOutOfRange(metadata: ModelMetadata, controls: Readonly<Record<string, number>>): void {
  for (const [name, value] of Object.entries(controls)) {
    const control = metadata.controls.find((c) => c.name === name);
    if (control && (value < control.min || value > control.max)) {
      process.stderr.write(`${ToolName}: warning: --control ${name}=${value} is outside its range ${control.min}..${control.max} (extrapolating)\n`);
    }
  }
}

function Abbreviate(text: string, max = 40): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
