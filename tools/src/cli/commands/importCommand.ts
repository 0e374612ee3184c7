/**
 * `npc-faces import FILE --out model.onnx --licence TEXT`: a StyleGAN2 generator trained with NVIDIA's
 * stylegan2-ada-pytorch (`.pkl`, its `G_ema`) or rosinality's stylegan2-pytorch (`.pt`, its `g_ema`) as an npc-faces
 * model file. The file is read without executing it (docs/import.md); anything else is refused with one line, and
 * nothing is written.
 */
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { Command, Option } from "commander";
import { ReadModelFile, Sha256HexAsync } from "@npc-faces/runtime";
import { EnsureFolderAsync, WriteFileAtomicAsync } from "../../bake/atomicWrite.js";
import { IntegerParser, NumberInRangeParser } from "../argParsers.js";
import { CliFailure, CliUsageError } from "../cliErrors.js";
import { FormatBytes, JsonHelp, WriteJsonResult } from "../cliFormat.js";

/** Parsed flags of `npc-faces import`. */
interface ImportFlags {
  out: string;
  licence?: string;
  credit?: string[];
  name?: string;
  noise: "seeded" | "constant";
  controls: number;
  fp16?: boolean;
  noiseStrength: number;
  json?: boolean;
}

/** `npc-faces import`: see its `--help` and docs/cli.md. */
export function ImportCommand(): Command {
  return new Command("import")
    .summary("import a PyTorch StyleGAN2 generator (.pkl, .pt) as a model file")
    .description(
      "Converts a StyleGAN2 generator trained with NVIDIA's stylegan2-ada-pytorch (a network pickle, .pkl: its G_ema) or rosinality's stylegan2-pytorch (a checkpoint, .pt: its g_ema) " +
        "into an npc-faces model file with the source network's exact semantics (see docs/import.md). The file is read, never executed: " +
        "files that would need code execution, discriminator-only files and unknown network classes are refused. " +
        "The licence of the weights is required and recorded; `info` shows it with the file's hash.",
    )
    .argument("<file>", "the .pkl or .pt file")
    .requiredOption("--out <file>", "model file to write (.onnx; parent folders are created; an existing file is replaced)")
    .addOption(new Option("--licence <text>", "the licence of the imported weights, recorded in the model (required), e.g. \"CC BY-NC-SA 4.0 (NVIDIA FFHQ)\""))
    .addOption(new Option("--license <text>").hideHelp())
    .option("--credit <text...>", "credits recorded in the model (repeatable)")
    .option("--name <name>", "model name written to the metadata (default: the file name without extension)")
    .addOption(
      new Option("--noise <source>", "per-layer noise: seeded (drawn from each face's seed, as npc-faces models) or constant (the file's fixed noise buffers, NVIDIA's noise_mode=const)")
        .choices(["seeded", "constant"])
        .default("seeded"),
    )
    .addOption(new Option("--controls <count>", "number of unsupervised control directions (SeFa) computed at import, 0..wDim").default(4).argParser(IntegerParser(0, 100000)))
    .option("--fp16", "store weights as float16 (half the file; outputs differ slightly) (default: float32)")
    .addOption(new Option("--noise-strength <x>", "the model's default noise multiplier (0..4)").default(1).argParser(NumberInRangeParser(0, 4)))
    .option("--json", JsonHelp)
    .addHelpText(
      "after",
      "\nExamples:\n  npc-faces import network-snapshot-001200.pkl --licence \"CC BY 4.0, my studio\" --out faces.onnx\n  npc-faces import 550000.pt --licence \"MIT\" --noise constant --out faces.onnx",
    )
    .action(async (file: string, flags: ImportFlags & { license?: string }) => {
      await RunImportAsync(file, { ...flags, licence: flags.licence ?? flags.license });
    });
}

async function RunImportAsync(file: string, flags: ImportFlags): Promise<void> {
  const licence = flags.licence?.trim() ?? "";
  if (licence === "") throw new CliUsageError("--licence <text> is required: the licence of the imported weights (it is recorded in the model)");
  if (flags.name !== undefined && flags.name.trim() === "") throw new CliUsageError("--name: expected a non-empty name");
  const out = resolve(flags.out);
  const outInfo = await stat(out).catch(() => undefined);
  if (outInfo?.isDirectory()) throw new CliFailure(`--out: ${out} is a folder; expected a file name such as ${out}/model.onnx`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    throw new CliFailure(`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const started = performance.now();
  // Loaded on demand: the importer needs the trainer's exporter (and tfjs for rosinality's w_avg estimate).
  const { ImportCheckpointAsync } = await import("../../import/importCheckpoint.js");
  const result = await ImportCheckpointAsync({
    bytes,
    fileName: basename(file),
    licence,
    credits: flags.credit ?? [],
    ...(flags.name === undefined ? {} : { name: flags.name }),
    noise: flags.noise,
    controls: flags.controls,
    weightType: flags.fp16 ? "float16" : "float32",
    noiseStrength: flags.noiseStrength,
  }).catch((error: Error) => {
    throw new CliFailure(error.message);
  });
  // Never write a file the runtime would refuse.
  const { metadata } = ReadModelFile(result.bytes, "imported model");
  try {
    await EnsureFolderAsync(dirname(out));
  } catch (error) {
    throw new CliFailure(`--out: ${(error as Error).message}`);
  }
  await WriteFileAtomicAsync(out, result.bytes);
  const seconds = (performance.now() - started) / 1000;
  const imported = result.provenance.imported!;
  if (flags.json) {
    WriteJsonResult("import", {
      source: resolve(file),
      format: imported.format,
      sourceSha256: imported.sha256,
      generator: imported.generator,
      kimg: imported.kimg ?? null,
      file: out,
      bytes: result.bytes.length,
      sha256: await Sha256HexAsync(result.bytes),
      name: metadata.name,
      resolution: metadata.resolution,
      noise: metadata.noise ?? "seeded",
      controls: metadata.controls.map((c) => c.name),
      architecture: metadata.architecture,
      seconds,
    });
    return;
  }
  const { config } = result.generator;
  process.stdout.write(
    `imported ${imported.generator} of ${basename(file)} (${imported.format}, ${config.resolution}x${config.resolution}, ${config.synthesis ?? "skip"}, ` +
      `${config.mappingLayers} mapping layers${config.labelDim > 0 ? `, ${config.labelDim} classes` : ""}, ${flags.noise} noise, ${metadata.controls.length} SeFa controls) ` +
      `to ${out}: ${FormatBytes(result.bytes.length)}, ${seconds.toFixed(1)} s\n`,
  );
}
