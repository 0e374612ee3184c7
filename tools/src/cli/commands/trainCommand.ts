/**
 * `npc-faces train`: trains a StyleGAN2-ADA generator on a data set (see docs/training.md). Progress bar with
 * kimg, images/s, ETA, losses, ADA p and R1; Ctrl-C / SIGTERM writes a checkpoint and stops (exit 130);
 * `--resume` continues a run exactly; `--resume-from FILE` starts a new run folder from a (packed) checkpoint.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import cliProgress from "cli-progress";
import { IntegerParser, ParseFiniteNumber, ParseNameList, ParseSeed } from "../argParsers.js";
import { CliFailure, CliInterrupted, CliUsageError } from "../cliErrors.js";
import { KeepRunSnapshotAsync } from "../../training/runSnapshots.js";
import { PresetNames } from "./exportCommand.js";
import type { TrainingOptions } from "@npc-faces/trainer";

interface TrainFlags {
  data: string;
  out: string;
  preset: string;
  kimg?: number;
  batch?: number;
  gamma?: number;
  lr?: number;
  plWeight?: number;
  adaKimg?: number;
  adaTarget?: number;
  dConvDown?: "filterFirst" | "strided";
  dMapping?: number;
  labelLoss?: number;
  mixing?: number;
  cond?: boolean;
  labels?: string[];
  progressive?: boolean;
  aug: "ada" | "none";
  resume?: boolean;
  resumeFrom?: string;
  backend: "auto" | "gpu" | "node" | "wasm" | "cpu";
  engine: "auto" | "ort" | "tfjs";
  device?: "cpu" | "webgpu" | "cuda";
  seed: number;
  workers?: number;
  tick?: number;
  snap?: number;
  keepSnapshots: number;
}

/**
 * Flags that say what a run trains, which a resumed run takes from its checkpoint (only --kimg, --batch, --lr, --gamma,
 * --label-loss, --aug, --ada-target and a --preset the run can grow into replace the checkpoint's): one typed with another value is refused rather than dropped in silence.
 */
const KeptOnResume = [
  ["--seed", "seed", "seed"],
  ["--pl-weight", "plWeight", "plWeight"],
  ["--ada-kimg", "adaKimg", "adaKimg"],
  ["--d-conv-down", "dConvDown", "dConvDown"],
  ["--d-mapping", "dMapping", "dMappingLayers"],
  ["--mixing", "mixing", "styleMixing"],
  ["--cond", "cond", "cond"],
  ["--progressive", "progressive", "progressive"],
  ["--workers", "workers", "workers"],
  ["--tick", "tick", "tickKimg"],
  ["--snap", "snap", "snapshotTicks"],
] as const satisfies readonly (readonly [string, keyof TrainFlags, keyof TrainingOptions])[];

/** @param typed whether a flag was typed on the command line (--preset and --seed have defaults, which are no change) */
function RefuseChangesOnResume(flags: TrainFlags, checkpoint: TrainingOptions, typed: (key: keyof TrainFlags) => boolean): void {
  for (const [flag, given, kept] of KeptOnResume) {
    if (typed(given) && flags[given] !== checkpoint[kept]) {
      throw new CliUsageError(`${flag} ${flags[given]}: a resumed run keeps its checkpoint's ${kept} (${checkpoint[kept]}); only --kimg, --batch, --lr, --gamma, --label-loss, --aug, --ada-target and a wider --preset replace the checkpoint's`);
    }
  }
}

/** A parser of `name`'s value: a number as every other flag takes it (ParseFiniteNumber) that `accepts`, else "`name` must be `what`". */
function NumberFlag(name: string, what: string, accepts: (v: number) => boolean): (text: string) => number {
  return (text) => {
    let v = Number.NaN;
    try {
      v = ParseFiniteNumber(text);
    } catch {
      // reported below, with the flag's own wording
    }
    if (!accepts(v)) throw new InvalidArgumentError(`${name} must be ${what}, got "${text}"`);
    return v;
  };
}

const PositiveNumber = (name: string) => NumberFlag(name, "a positive number", (v) => v > 0);
const NonNegativeNumber = (name: string) => NumberFlag(name, "a number >= 0", (v) => v >= 0);
const ParseAdaTarget = NumberFlag("--ada-target", "a number between 0 and 1 (exclusive)", (v) => v > 0 && v < 1);

function ParsePreset(text: string): string {
  if (!PresetNames.includes(text)) throw new InvalidArgumentError(`unknown preset "${text}" (known: ${PresetNames.join(", ")})`);
  return text;
}

/** `npc-faces train`: see its `--help` and docs/training.md. */
export function TrainCommand(): Command {
  return new Command("train")
    .summary("train a face model (StyleGAN2-ADA on onnxruntime or tfjs)")
    .description(
      "Trains a StyleGAN2-ADA generator on a data set and writes a run folder: checkpoint.ckpt (every --snap ticks, at the end and on Ctrl-C), " +
        "log.jsonl (one line per tick), samples/ (a grid of the same seeds every tick) and options.json. Export it with `npc-faces export --run RUN`.",
    )
    .requiredOption("--data <dir>", "data set folder (from `npc-faces dataset`) or a folder of same-sized square images")
    .requiredOption("--out <dir>", "run folder to write (created; must not hold a run unless --resume)")
    .addOption(new Option("--preset <name>", `architecture and defaults: ${PresetNames.join(", ")}; its resolution must match the data; with --resume / --resume-from a preset with more channels above 4x4 than the checkpoint's (npc64wide -> npc64fine) grows the run into it (its G and D start out computing what they computed; docs/training.md)`).default("game64").argParser(ParsePreset))
    .addOption(new Option("--kimg <n>", "length of training in thousands of real images (default: preset's: tiny 10, npc64 1000, npc64wide 1000, npc64fine 1000, npc128 2000, game64 2000, game128 3000, paper256 25000)").argParser(PositiveNumber("--kimg")))
    .addOption(new Option("--batch <n>", "minibatch size; with --resume / --resume-from it replaces the checkpoint's (R1's default weight and the EMA's half-life follow it) (default: 8; paper256 16)").argParser(IntegerParser(2, 4096)))
    .addOption(new Option("--gamma <g>", "R1 weight; with --resume / --resume-from it replaces the checkpoint's (default: 0.0002 * resolution^2 / batch, stylegan2-ada's heuristic)").argParser(NonNegativeNumber("--gamma")))
    .addOption(new Option("--lr <rate>", "Adam learning rate of G and D; with --resume / --resume-from it replaces the checkpoint's (the optimiser's moments carry over) (default: 0.0025)").argParser(PositiveNumber("--lr")))
    .addOption(new Option("--pl-weight <w>", "path-length regularisation weight, 0 = off (default: 2, stylegan2-ada's)").argParser(NonNegativeNumber("--pl-weight")))
    .addOption(new Option("--mixing <p>", "style-mixing probability (default: 0.9)").argParser(NonNegativeNumber("--mixing")))
    .option("--cond", "condition on the data set's labels (named label controls on export) (default: off)")
    .addOption(new Option("--labels <names>", "with --cond: the labels to condition on, comma-separated: numeric labels (skin_tone), categorical attributes (gender: one column per value) or attribute=value columns (default: every label); with --resume / --resume-from the checkpoint's own, or its own followed by more, which adds label columns to the run (its G and D start out computing what they computed; docs/training.md)").argParser(ParseNameList))
    .option("--progressive", "progressive growing: train at 8x8 for 100 kimg, then per doubling a 100-kimg fade-in and a 100-kimg stable phase (default: off)")
    .addOption(new Option("--aug <mode>", "augmentation: ada (adaptive, target r_t 0.6) or none; with --resume / --resume-from it replaces the checkpoint's (none drops ADA and its p; ada on a run without it starts at p = 0)").choices(["ada", "none"]).default("ada"))
    .addOption(new Option("--ada-kimg <n>", "ADA speed: kimg for the augmentation probability to move 0 -> 1 (default: 500, stylegan2-ada's)").argParser(PositiveNumber("--ada-kimg")))
    .addOption(new Option("--ada-target <r>", "ADA: the r_t = E[sign(D(real))] it holds by raising or lowering p (lower: more augmentation); with --resume / --resume-from it replaces the checkpoint's, p carrying over (default: 0.6, stylegan2-ada's)").argParser(ParseAdaTarget))
    .addOption(new Option("--d-conv-down <mode>", "discriminator: how each block's second conv halves the resolution: strided (blur at full resolution, stride-2 conv, as stylegan2-ada) or filterFirst (down-sample, then conv; npc-faces 0.1) (default: strided)").choices(["strided", "filterFirst"]))
    .addOption(new Option("--label-loss <w>", "conditional runs, onnxruntime engine: weight of the label loss, a head on D that learns each real face's labels and trains G to draw the labels it is given (AC-GAN's auxiliary classifier; 0 = off, stylegan2-ada's projection alone); with --resume / --resume-from it replaces the checkpoint's (a head added to a run starts untrained) (default: 0)").argParser(NonNegativeNumber("--label-loss")))
    .addOption(new Option("--d-mapping <n>", "conditional discriminator: FC layers of its label mapping network (default: 2)").argParser(IntegerParser(0, 16)))
    .option("--resume", "continue the run in --out from its checkpoint exactly (weights, EMA, optimiser, ADA p, kimg, RNG; its options win except --kimg, --batch, --lr, --gamma, --label-loss, --aug and --ada-target, which replace its own when given; the labels default to its own) (default: off)")
    .addOption(new Option("--resume-from <file>", "start --out (which must hold no checkpoint) from a checkpoint file, a packed one (`npc-faces checkpoint pack`) or another run's checkpoint.ckpt, and continue as --resume does; --kimg and the labels default to the checkpoint's (default: off)").conflicts("resume"))
    .addOption(new Option("--engine <name>", "training engine: ort (onnxruntime-node: native CPU kernels, WebGPU, CUDA; ~5x the tfjs engine on a 2-core CPU, see README), tfjs, or auto (ort when onnxruntime-node is installed and the run is not --progressive, else tfjs); a run may switch engines on --resume").choices(["auto", "ort", "tfjs"]).default("auto"))
    .addOption(new Option("--device <name>", "with --engine ort: onnxruntime's provider: cpu, webgpu (bundled Dawn: Vulkan on Linux, D3D12 on Windows, Metal on macOS), cuda (CUDA 12 + cuDNN 9 libraries installed) (default: cpu)").choices(["cpu", "webgpu", "cuda"]))
    .addOption(new Option("--backend <name>", "tfjs engine's backend (and the sample grids'): auto (gpu, node, then wasm), gpu (@tensorflow/tfjs-node-gpu, CUDA 11.x + cuDNN 8), node (@tensorflow/tfjs-node), wasm, cpu").choices(["auto", "gpu", "node", "wasm", "cpu"]).default("auto"))
    .addOption(new Option("--seed <seed>", "seed of initial weights and all training randomness").default(0).argParser(ParseSeed))
    .addOption(new Option("--workers <n>", "tfjs engine: data-parallel worker threads on wasm/cpu (same seed + same workers = same weights; default: 2, tiny 1)").argParser(IntegerParser(1, 64)))
    .addOption(new Option("--tick <kimg>", "kimg per tick: log line and sample grid (default: 4; tiny 0.5)").argParser(PositiveNumber("--tick")))
    .addOption(new Option("--snap <ticks>", "ticks per checkpoint (default: 10)").argParser(IntegerParser(1, 1_000_000)))
    .addOption(new Option("--keep-snapshots <n>", "also keep a copy of each of the newest N checkpoints in RUN/snapshots/kimg-K/ (export one with `npc-faces export --run RUN --snapshot K`); 0 = only the latest checkpoint; not remembered by --resume: pass it again").default(0).argParser(IntegerParser(0, 1_000_000)))
    .addHelpText("after", "\nExamples:\n  npc-faces train --data data/faces64 --out runs/faces64\n  npc-faces train --data data/faces64 --out runs/faces64 --resume --kimg 4000\n  npc-faces train --data data/faces64 --out runs/faces64 --resume-from models/training/checkpoint.npcfckpt.gz\n  npc-faces train --data data/tiny --out runs/tiny --preset tiny --kimg 1 --aug none --backend wasm")
    .action(async (flags: TrainFlags, command: Command) => {
      await RunTrainAsync(flags, (key) => command.getOptionValueSource(key) === "cli");
    });
}

/**
 * `--engine auto` is ort where onnxruntime-node loads (measured ~5x faster than tfjs WASM here; README "Training
 * speed") unless the run grows progressively or asks for --workers (tfjs only); an explicit choice that cannot run
 * is an error.
 */
async function ResolveEngineAsync(flags: TrainFlags, progressive: boolean): Promise<"ort" | "tfjs"> {
  if (flags.engine === "tfjs") {
    if (flags.device !== undefined) throw new CliUsageError("--device chooses onnxruntime's provider: it needs --engine ort (or auto)");
    return "tfjs";
  }
  if (progressive) {
    if (flags.engine === "ort") throw new CliUsageError("--progressive trains with the tfjs engine only: drop --engine ort");
    return "tfjs";
  }
  if (flags.workers !== undefined) {
    if (flags.engine === "ort") throw new CliUsageError("--workers sets the tfjs engine's worker threads; onnxruntime uses every core by itself");
    return "tfjs";
  }
  const { LoadOnnxRuntimeNodeAsync } = await import("@npc-faces/trainer");
  const loaded = await LoadOnnxRuntimeNodeAsync().then(() => null, (error: Error) => error);
  if (loaded === null) return "ort";
  if (flags.engine === "ort" || flags.device !== undefined) throw new CliFailure(loaded.message);
  return "tfjs";
}

async function RunTrainAsync(flags: TrainFlags, typed: (key: keyof TrainFlags) => boolean): Promise<void> {
  if (flags.mixing !== undefined && flags.mixing > 1) throw new CliUsageError(`--mixing must be in 0..1, got ${flags.mixing}`);
  if (flags.labels && !flags.cond && !flags.resume && !flags.resumeFrom) throw new CliUsageError("--labels needs --cond (it picks the labels to condition on)");
  const trainer = await import("@npc-faces/trainer");
  const { LoadTrainingDataAsync } = await import("../../training/loadTrainingData.js");
  // --resume-from / --resume: read the checkpoint before anything else (a bad file writes nothing); its preset, target
  // kimg and label columns are the defaults, so continuing needs no flags of the original run. (--resume without a
  // checkpoint is reported by RunTrainingAsync.)
  const fromPath = flags.resumeFrom ?? (flags.resume ? join(resolve(flags.out), trainer.RunFiles.checkpoint) : undefined);
  let from: Awaited<ReturnType<typeof trainer.ReadCheckpointAsync>> | undefined;
  if (fromPath !== undefined && (flags.resumeFrom !== undefined || existsSync(fromPath))) {
    from = await trainer.ReadCheckpointAsync(fromPath).catch((error: Error) => {
      throw new CliFailure(error.message);
    });
    RefuseChangesOnResume(flags, from.options, typed);
  }
  const engine = await ResolveEngineAsync(flags, from?.options.progressive ?? flags.progressive ?? false);
  let options;
  try {
    options = trainer.ResolveTrainingOptions({
      engine, device: flags.device ?? "cpu",
      preset: from && !typed("preset") ? from.options.preset : flags.preset, kimg: flags.kimg ?? from?.options.kimg, batch: flags.batch, gamma: flags.gamma, learningRate: flags.lr, plWeight: flags.plWeight, adaKimg: flags.adaKimg, adaTarget: flags.adaTarget, dConvDown: flags.dConvDown, dMappingLayers: flags.dMapping, labelLoss: fromPath !== undefined ? undefined : flags.labelLoss,
      styleMixing: flags.mixing, cond: flags.cond ?? false, progressive: flags.progressive ?? false, aug: flags.aug, seed: flags.seed, backend: flags.backend, workers: flags.workers, tickKimg: flags.tick, snapshotTicks: flags.snap,
    });
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  let data;
  try {
    data = await LoadTrainingDataAsync(resolve(flags.data), { labels: flags.labels ?? (from?.options.cond ? from.data.labelNames : undefined) });
  } catch (error) {
    throw new CliFailure((error as Error).message);
  }
  const config = trainer.GetGeneratorPreset(options.preset);
  if (config.resolution !== data.resolution) {
    throw new CliUsageError(`--preset ${options.preset} trains ${config.resolution}x${config.resolution} images, the data has ${data.resolution}x${data.resolution} (pick a preset with that resolution)`);
  }
  if (options.cond && data.labelNames.length === 0) throw new CliUsageError("--cond: the data set has no labels");
  if (from?.data.id && data.id && from.data.id !== data.id && !data.formerIds?.includes(from.data.id)) {
    process.stderr.write(`npc-faces train: note: --data ${flags.data} (id ${data.id}) is not the data set the checkpoint was trained on (id ${from.data.id}); training continues on it\n`);
  }
  const backend = await trainer.SelectBackendAsync(options.backend).catch((error: Error) => {
    throw new CliFailure(error.message);
  });
  const engineText = options.engine === "ort" ? `onnxruntime-node (${options.device})` : `tfjs, backend ${backend.description}`;
  process.stderr.write(`npc-faces train: ${data.count} images ${data.resolution}x${data.resolution}${data.labelNames.length ? `, ${data.labelNames.length} label columns` : ""}; preset ${options.preset}; engine ${engineText}\n`);

  let stop = false;
  const onSignal = () => {
    if (stop) process.exit(130); // second Ctrl-C: give up on the checkpoint
    stop = true;
    process.stderr.write("\nnpc-faces train: stopping after this step and writing a checkpoint (Ctrl-C again to abort)...\n");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const bar = new cliProgress.SingleBar(
    { format: "{bar} {kimg}/{total} kimg | {ips} img/s | ETA {eta_h} | G {lossG} D {lossD} | p {p} | R1 {r1}", hideCursor: true, noTTYOutput: false, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  const showBar = process.stderr.isTTY === true;
  if (showBar) bar.start(Math.round(options.kimg * 1000), 0, { kimg: "0.000", total: options.kimg, ips: "-", eta_h: "-", lossG: "-", lossD: "-", p: "-", r1: "-" });
  try {
    const result = await trainer.RunTrainingAsync({
      runDir: resolve(flags.out),
      options,
      data,
      resume: flags.resume ?? false,
      resumeFrom: from && flags.resumeFrom !== undefined ? { path: flags.resumeFrom, checkpoint: from } : undefined,
      resumeOverrides: { labelLoss: flags.labelLoss, learningRate: flags.lr, gamma: flags.gamma, batch: flags.batch, aug: typed("aug") ? flags.aug : undefined, adaTarget: flags.adaTarget, preset: typed("preset") ? flags.preset : undefined },
      createAugmentation: (o, state) => {
        if (o.aug !== "ada") return null;
        // The run's target wins over the state's: they differ only when a resume gave --ada-target.
        return state ? trainer.AdaAugmentation.fromJSON(state as Parameters<typeof trainer.AdaAugmentation.fromJSON>[0], o.adaTarget) : trainer.AdaAugmentation.Create("bgc", { target: o.adaTarget, adjustImages: o.adaKimg * 1000 });
      },
      shouldStop: () => stop,
      onCheckpoint: flags.keepSnapshots > 0 ? async (path, kimg) => void (await KeepRunSnapshotAsync(resolve(flags.out), path, kimg, flags.keepSnapshots)) : undefined,
      onProgress: (p) => {
        if (!showBar) return;
        const eta = p.etaSeconds;
        bar.update(Math.round(p.kimg * 1000), {
          kimg: p.kimg.toFixed(3), total: p.totalKimg, ips: p.imagesPerSecond.toFixed(2),
          eta_h: `${Math.floor(eta / 3600)}h${String(Math.floor((eta % 3600) / 60)).padStart(2, "0")}m`,
          lossG: p.stats.lossG.toFixed(3), lossD: p.stats.lossD.toFixed(3), p: p.stats.augmentP.toFixed(3), r1: p.lastR1 === null ? "-" : p.lastR1.toFixed(4),
        });
      },
    });
    if (showBar) bar.stop();
    process.stderr.write(`npc-faces train: ${result.reason} at ${result.kimg.toFixed(3)} kimg; checkpoint ${result.checkpoint}\n`);
    if (result.reason === "interrupted") throw new CliInterrupted("interrupted; the checkpoint was written, continue with --resume");
  } catch (error) {
    if (showBar) bar.stop();
    if (error instanceof CliInterrupted) throw error;
    const message = (error as Error).message;
    if (/^--resume|already holds a run|checkpoint /.test(message) || (error as Error).name === "CheckpointError") throw new CliFailure(message);
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
