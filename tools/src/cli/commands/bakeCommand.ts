/**
 * `npc-faces bake`: one PNG per seed (`--seeds`) or per NPC of a face manifest (`--manifest`: parallel,
 * incremental, shardable, with atlases), with provenance text chunks; `npc-faces bake merge` joins the outputs of
 * a sharded bake. The work itself lives in ../../bake/; this file parses flags, validates everything (model
 * included) before the output folder is touched, and reports.
 */
import { resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { IsNpcFacesError, type ModelMetadata } from "@npc-faces/runtime";
import type { FaceEngine } from "@npc-faces/runtime/node";
import type { BakeOptions, BakePlan } from "../../bake/bakeSeeds.js";
import { FormatSeedList } from "../../bake/seedList.js";
import { ParseShard, type BakeShard } from "../../bake/shard.js";
import { ParseAtlasSize, type AtlasSize } from "../../bake/atlasPacker.js";
import { ToolName } from "../../toolInfo.js";
import { CollectControl, CollectLabel, EngineOption, IntegerParser, NumberInRangeParser, ParseFiniteNumber, ParseSeed, ParseSeedListArgument } from "../argParsers.js";
import { CreateBakeProgressBar, InstallInterruptHandler } from "../bakeProgress.js";
import { CliFailure, CliUsageError } from "../cliErrors.js";
import { DefaultModelHelp, FormatBytes, JsonHelp, WriteJsonResult } from "../cliFormat.js";

/** Parsed flags of `npc-faces bake`. */
interface BakeFlags {
  model?: string;
  seeds?: number[];
  manifest?: string;
  out?: string;
  workers?: number;
  force?: boolean;
  shard?: BakeShard;
  atlas?: AtlasSize;
  psi?: number;
  noiseStrength?: number;
  mixSeed?: number;
  mix?: number;
  crossover?: number;
  control?: Record<string, number>;
  label?: Record<string, string>;
  size?: number;
  batch: number;
  engine: FaceEngine;
  threads?: number;
  progress: boolean;
  json?: boolean;
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
  labels: "--label",
  size: "--size",
};

/** `npc-faces bake`: see its `--help`, docs/cli.md and docs/baking.md. */
export function BakeCommand(): Command {
  return new Command("bake")
    .summary("bake faces into PNG files with provenance (seed lists or face manifests)")
    .description(
      "Two forms. With --seeds: one face per seed, written to <out>/face-<seed>.png (replacing a file of that name). " +
        "With --manifest: one face per NPC of a face manifest (docs/manifest.md), written to <out>/<id>.png, plus the output manifest " +
        "<out>/faces.json (NPC id -> file, SHA-256); parallel (--workers), incremental (faces whose file already matches model, " +
        "parameters and output options are reused without inference; --force rebakes), shardable (--shard i/n, then `npc-faces bake merge`), " +
        "optionally packed into texture atlases (--atlas). " +
        "Every PNG carries provenance text chunks: tool and version, model name and SHA-256, seed and every parameter (see docs/cli.md, docs/baking.md).\n\n" +
        "Everything (model, seeds or manifest, controls, output folder, atlas size) is checked before the first file is written. " +
        "Exit status: 0 done, 1 failure (bad model file, unwritable folder), 2 bad flags or values (manifest problems included).",
    )
    .option("--model <file>", `model file (.onnx) made by \`npc-faces export\`; ${DefaultModelHelp}`)
    .option("--seeds <list>", "seeds and inclusive ranges, e.g. 1-16,20,30-32 (integers in 0..4294967295); this or --manifest", ParseSeedListArgument)
    .option("--manifest <file>", "face manifest (JSON, docs/manifest.md): one face per NPC, with the NPC's own parameters; this or --seeds")
    .option("--out <dir>", "output folder, created if missing (required)")
    .option("--psi <number>", "[--seeds] truncation toward the average face: 1 = none, 0 = the average face (default: the model's, 0.7 for exported models)", ParseFiniteNumber)
    .option("--noise-strength <number>", "[--seeds] multiplier of the per-layer noise, 0 = smooth (default: the model's, 1 for exported models)", ParseFiniteNumber)
    .option("--mix-seed <seed>", "[--seeds] breed every face with the face of this seed (style mixing)", ParseSeed)
    .option("--mix <amount>", "[--seeds] how much of the mix seed's style the mixed layers take, 0..1 (default: 1; needs --mix-seed)", NumberInRangeParser(0, 1))
    .option("--crossover <layer>", "[--seeds] first style layer taken from the mix seed; lower layers keep coarse features (pose, shape) (default: 0 = all layers; needs --mix-seed)", IntegerParser(0, 1024))
    .option("--control <name=value>", "[--seeds] set a named control, repeatable (default: each control's default; `npc-faces info` lists names and ranges)", CollectControl)
    .option("--label <name=value>", "[--seeds] conditional models: fix a label for every face, repeatable (default: each seed draws it from the model's label mix; `npc-faces info` lists labels and values)", CollectLabel)
    .option("--size <pixels>", `side of the written images, resampled with lanczos3 (default: the model's resolution; max ${MaxSize})`, IntegerParser(1, MaxSize))
    .addOption(new Option("--batch <count>", "faces per inference run (1..256)").default(8).argParser(IntegerParser(1, 256)))
    .addOption(EngineOption())
    .addOption(new Option("--threads <count>", "[--engine native] onnxruntime-node threads per operator, per worker with --manifest (default: 1 per worker with several workers, else onnxruntime's choice, the number of physical cores); the canonical engine is single-threaded").argParser(IntegerParser(1, 1024)))
    .addOption(new Option("--workers <count>", "[--manifest] worker threads, each with its own inference session (default: the number of cores; never more than there are batches to bake)").argParser(IntegerParser(1, 256)))
    .option("--force", "[--manifest] rebake every face, even those whose file already matches (default: reuse them)")
    .addOption(new Option("--shard <i/n>", "[--manifest] bake only slice i of n (by a stable hash of the NPC id) and write faces.shard-<i>-of-<n>.json; join the slices with `npc-faces bake merge`").argParser(ShardArgument))
    .addOption(new Option("--atlas <WxH>", "[--manifest] also pack the faces into WxH texture atlas pages atlas-<n>.png with atlas.json (page and UV rectangle per NPC, for Babylon.js); not with --shard").argParser(AtlasArgument))
    .option("--no-progress", "no progress bar (it is only shown when stderr is a terminal)")
    .option("--json", JsonHelp)
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  npc-faces bake --seeds 1-16 --out textures/        # the bundled default model\n" +
        "  npc-faces bake --model faces.onnx --seeds 1-16 --out textures/\n" +
        "  npc-faces bake --model faces.onnx --seeds 7,42 --out out/ --psi 0.5 --control direction_0=1.5 --size 256\n" +
        "  npc-faces bake --model faces.onnx --seeds 1-8 --out kids/ --mix-seed 99 --crossover 4\n" +
        "  npc-faces bake --model faces.onnx --manifest npcs.npcfaces.json --out build/faces --atlas 1024x1024\n" +
        "  npc-faces bake --model faces.onnx --manifest npcs.json --out shard2/ --shard 2/3   (then: npc-faces bake merge shard1/ shard2/ shard3/ --out faces/)",
    )
    .addCommand(MergeCommand())
    .action(async (flags: BakeFlags) => {
      if (flags.seeds !== undefined && flags.manifest !== undefined) throw new CliUsageError("--seeds and --manifest cannot be used together (a manifest names its NPCs' seeds)");
      if (flags.seeds === undefined && flags.manifest === undefined) throw new CliUsageError("required option '--seeds <list>' not specified (or --manifest <file>)");
      if (flags.out === undefined) throw new CliUsageError("required option '--out <dir>' not specified");
      if (flags.manifest !== undefined) await RunManifestBakeAsync(flags as BakeFlags & { manifest: string; out: string });
      else await RunBakeAsync(flags as BakeFlags & { seeds: number[]; out: string });
    });
}

/** `npc-faces bake merge`: joins the output folders of a sharded bake. */
function MergeCommand(): Command {
  return new Command("merge")
    .summary("merge the outputs of a sharded bake (--shard i/n) into one folder")
    .description(
      "Copies the faces of every shard folder into <out> (checking each file's SHA-256) and merges the shards' " +
        "faces.shard-<i>-of-<n>.json into one faces.json: the same folder, byte for byte, as one unsharded bake of the manifest. " +
        "Refuses (writing nothing) unless the shards are all from one bake (same model, tool, size, manifest size) and complete (1..n, each once).",
    )
    .argument("<dirs...>", "the shards' output folders")
    .option("--out <dir>", "merged output folder, created if missing (required)")
    .addOption(new Option("--atlas <WxH>", "also pack all faces into WxH texture atlas pages (as bake --atlas)").argParser(AtlasArgument))
    .addHelpText("after", "\nExample:\n  npc-faces bake merge shard1/ shard2/ shard3/ --out faces/ --atlas 1024x1024")
    .action(async (dirs: string[], _flags: unknown, command: Command) => {
      // `bake` has --out and --atlas too and may have taken them: read both levels.
      const flags = command.optsWithGlobals<{ out?: string; atlas?: AtlasSize; json?: boolean }>();
      if (flags.out === undefined) throw new CliUsageError("required option '--out <dir>' not specified");
      const [{ MergeBakeShardsAsync, BakeMergeError }, { AtlasError }, { OutputFolderError }] = await Promise.all([
        import("../../bake/bakeMerge.js"),
        import("../../bake/atlasPacker.js"),
        import("../../bake/bakeSeeds.js"),
      ]);
      const started = performance.now();
      try {
        const summary = await MergeBakeShardsAsync({ shardDirs: dirs, outDir: flags.out, ...(flags.atlas ? { atlas: flags.atlas } : {}) });
        const atlas = summary.atlas ? `, atlas ${summary.atlas.pages} page${summary.atlas.pages === 1 ? "" : "s"}` : "";
        if (flags.json) {
          WriteJsonResult("bake merge", {
            outDir: resolve(flags.out),
            shards: summary.shards,
            faces: summary.faces,
            copied: summary.copied,
            ...(summary.atlas ? { atlas: { pages: summary.atlas.pages, file: summary.atlas.jsonFile } } : {}),
            seconds: (performance.now() - started) / 1000,
          });
          return;
        }
        process.stdout.write(
          `merged ${summary.shards} shard${summary.shards === 1 ? "" : "s"}: ${summary.faces} faces (${summary.copied} copied) into ${flags.out}${atlas} in ${((performance.now() - started) / 1000).toFixed(2)} s\n`,
        );
      } catch (error) {
        if (error instanceof AtlasError) throw new CliUsageError(`--atlas: ${error.message}`);
        if (error instanceof BakeMergeError) throw new CliFailure(error.message);
        if (error instanceof OutputFolderError) throw new CliFailure(`--out: ${error.message}`);
        throw error;
      }
    });
}

function ShardArgument(text: string): BakeShard {
  try {
    return ParseShard(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function AtlasArgument(text: string): AtlasSize {
  try {
    return ParseAtlasSize(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** `--manifest` form. */
async function RunManifestBakeAsync(flags: BakeFlags & { manifest: string; out: string }): Promise<void> {
  const perSeedFlags: [keyof BakeFlags, string][] = [["psi", "--psi"], ["noiseStrength", "--noise-strength"], ["mixSeed", "--mix-seed"], ["mix", "--mix"], ["crossover", "--crossover"], ["control", "--control"], ["label", "--label"]];
  for (const [key, flag] of perSeedFlags) {
    if (flags[key] !== undefined) throw new CliUsageError(`${flag} is not used with --manifest (each NPC's parameters come from the manifest)`);
  }
  const [{ PlanManifestBakeAsync, BakeManifestAsync, ManifestBakeError }, { RemovePendingTempFilesSync }, { ModelOrDefault }] = await Promise.all([
    import("../../bake/manifestBake.js"),
    import("../../bake/atomicWrite.js"),
    import("../loadModelForCli.js"),
  ]);
  const model = ModelOrDefault("--model", flags.model);
  let plan;
  try {
    plan = await PlanManifestBakeAsync({
      manifest: flags.manifest,
      model: model.path,
      outDir: flags.out,
      batchSize: flags.batch,
      force: flags.force === true,
      ...(flags.size !== undefined ? { size: flags.size } : {}),
      ...(flags.shard !== undefined ? { shard: flags.shard } : {}),
      ...(flags.atlas !== undefined ? { atlas: flags.atlas } : {}),
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
      ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
      engine: flags.engine,
    });
  } catch (error) {
    if (error instanceof ManifestBakeError) {
      // Manifest and model messages start with the file's path; the others get their flag.
      const prefix = { manifest: "--manifest ", model: `${model.what} `, out: "--out: ", atlas: "--atlas: ", size: "--size: ", shard: "--shard: ", engine: "--engine: ", threads: "--threads: " }[error.subject];
      throw error.kind === "usage" ? new CliUsageError(`${prefix}${error.message}`) : new CliFailure(`${prefix}${error.message}`);
    }
    throw error;
  }
  for (const warning of plan.warnings) process.stderr.write(`${ToolName}: warning: ${warning}\n`);

  const bar = CreateBakeProgressBar(flags.progress, "bake |{bar}| {value}/{total} faces ({cached} cached) | {speed} faces/s | ETA {eta_formatted}");
  const { interrupt, remove: removeInterruptHandler } = InstallInterruptHandler(bar, "interrupted; the faces written so far are complete and will be reused", RemovePendingTempFilesSync);
  let bakeStarted = 0;
  let started = false;
  let summary;
  try {
    summary = await BakeManifestAsync(plan, {
      signal: interrupt.signal,
      onProgress: (p) => {
        if (!started) {
          started = true;
          bakeStarted = performance.now();
          bar?.start(p.total, p.done, { speed: "0.0", cached: p.cached });
          return;
        }
        const seconds = (performance.now() - bakeStarted) / 1000;
        bar?.update(p.done, { speed: seconds > 0 ? (p.baked / seconds).toFixed(1) : "0.0", cached: p.cached });
      },
    });
  } catch (error) {
    if (error instanceof ManifestBakeError) throw new CliFailure(`--out: ${error.message}`);
    throw error;
  } finally {
    removeInterruptHandler();
    bar?.stop();
  }
  const rate = summary.seconds > 0 ? summary.baked / summary.seconds : 0;
  const what =
    summary.baked === 0
      ? `baked 0 faces: all ${summary.cached} cached, no inference`
      : `baked ${summary.baked} face${summary.baked === 1 ? "" : "s"}, ${summary.cached} cached (${summary.workers} worker${summary.workers === 1 ? "" : "s"}, ${rate.toFixed(1)} faces/s, ${FormatBytes(summary.bytes)})`;
  if (flags.json) {
    WriteJsonResult("bake", {
      mode: "manifest",
      outDir: plan.outDir,
      facesFile: summary.facesFile,
      total: summary.total,
      baked: summary.baked,
      cached: summary.cached,
      removed: summary.removed,
      workers: summary.workers,
      size: plan.size,
      bytes: summary.bytes,
      seconds: summary.seconds,
      ...(flags.shard ? { shard: { index: flags.shard.index, count: flags.shard.count } } : {}),
      ...(summary.atlas ? { atlas: { pages: summary.atlas.pages, file: summary.atlas.jsonFile } } : {}),
      engine: flags.engine,
      model: { path: resolve(model.path), name: plan.metadata.name, sha256: plan.modelSha256 },
    });
    return;
  }
  const shard = flags.shard ? ` shard ${flags.shard.index}/${flags.shard.count} (${summary.total} of ${plan.manifest.npcs.length} NPCs)` : ` ${summary.total} NPCs`;
  const removed = summary.removed > 0 ? `, removed ${summary.removed} stale` : "";
  const atlas = summary.atlas ? `, atlas ${summary.atlas.pages} page${summary.atlas.pages === 1 ? "" : "s"}` : "";
  process.stdout.write(
    `${what};${shard}, ${plan.size}x${plan.size}, into ${plan.outDir} (${summary.facesFile.slice(plan.outDir.length + 1)}${atlas}${removed}) in ${summary.seconds.toFixed(2)} s; ` +
      `model "${plan.metadata.name}" sha256 ${plan.modelSha256.slice(0, 12)}\n`,
  );
}

async function RunBakeAsync(flags: BakeFlags & { seeds: number[]; out: string }): Promise<void> {
  const manifestOnly: [keyof BakeFlags, string][] = [["workers", "--workers"], ["force", "--force"], ["shard", "--shard"], ["atlas", "--atlas"]];
  for (const [key, flag] of manifestOnly) {
    if (flags[key] !== undefined) throw new CliUsageError(`${flag} needs --manifest (the --seeds form always writes every file)`);
  }
  // Flag combinations first: they need no model.
  if (flags.mixSeed === undefined) {
    if (flags.mix !== undefined) throw new CliUsageError("--mix needs --mix-seed (the face to mix with)");
    if (flags.crossover !== undefined) throw new CliUsageError("--crossover needs --mix-seed (the face to mix with)");
  }
  // Heavy modules (onnxruntime, sharp) load only now: `--help` and flag errors stay fast.
  const [{ BakeInputError, BakeSeedsAsync, CheckOutputFolderAsync, OutputFolderError, PlanBake }, { RemovePendingTempFilesSync }, { LoadModelForCliAsync, ModelOrDefault }] = await Promise.all([
    import("../../bake/bakeSeeds.js"),
    import("../../bake/atomicWrite.js"),
    import("../loadModelForCli.js"),
  ]);
  const generator = await LoadModelForCliAsync(ModelOrDefault("--model", flags.model), { maxBatch: flags.batch, threads: flags.threads, engine: flags.engine });
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
      ...(flags.label !== undefined ? { labels: flags.label } : {}),
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
    const bar = CreateBakeProgressBar(flags.progress, "bake |{bar}| {value}/{total} faces | {speed} faces/s | ETA {eta_formatted}");
    // Ctrl-C stops after the file being written (so no half-written temporary file is left); a second Ctrl-C
    // exits at once, removing the temporary file of the write in progress.
    const { interrupt, remove: removeInterruptHandler } = InstallInterruptHandler(bar, "interrupted; the files written so far are complete", RemovePendingTempFilesSync);
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
      removeInterruptHandler();
      bar?.stop();
    }
    const rate = summary.seconds > 0 ? summary.count / summary.seconds : 0;
    const size = plan.params.size;
    if (flags.json) {
      WriteJsonResult("bake", {
        mode: "seeds",
        outDir: plan.outDir,
        count: summary.count,
        size,
        bytes: summary.bytes,
        seconds: summary.seconds,
        engine: flags.engine,
        model: { path: resolve(ModelOrDefault("--model", flags.model).path), name: generator.metadata.name, sha256: generator.modelHash },
        faces: plan.seeds.map((seed, i) => ({ seed, file: plan.files[i] })),
      });
      return;
    }
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
