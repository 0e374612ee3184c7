/**
 * `npc-faces sheet <kind>`: sample sheets of a model as one PNG each (seeds, controls, labels, truncation, style
 * mixing), with a legend JSON next to it. The sheets themselves live in ../../sheets/; this file parses flags,
 * checks everything (model, plan, output path) before generating, and reports.
 */
import type { FaceEngine } from "@npc-faces/runtime/node";
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { IsNpcFacesError, type ModelMetadata } from "@npc-faces/runtime";
import type { SheetCommonOptions, SheetPlan } from "../../sheets/sheetPlan.js";
import { CollectLabel, EngineOption, IntegerParser, NumberInRangeParser, ParseFiniteNumber, ParseNameList, ParseSeedListArgument } from "../argParsers.js";
import { CliFailure, CliUsageError } from "../cliErrors.js";
import { DefaultModelHelp, FormatBytes, JsonHelp, WriteJsonResult } from "../cliFormat.js";

/** Flags every sheet kind takes. */
interface CommonFlags {
  model?: string;
  out?: string;
  noiseStrength?: number;
  label?: Record<string, string>;
  scale: number;
  gap: number;
  batch: number;
  engine: FaceEngine;
  threads?: number;
  json?: boolean;
}

/** The flag behind each sheet option (`SheetInputError.field`), for messages. */
const FlagOf: Record<string, string> = {
  seeds: "--seeds",
  columns: "--columns",
  rows: "--rows",
  controls: "--controls",
  attributes: "--attributes",
  by: "--by",
  steps: "--steps",
  psi: "--psi",
  noiseStrength: "--noise-strength",
  labels: "--label",
  fromLayer: "--from-layer",
  scale: "--scale",
  gap: "--gap",
};

/** `npc-faces sheet`: see its `--help` and docs/cli.md. */
export function SheetCommand(): Command {
  return new Command("sheet")
    .summary("draw sample sheets of a model: seeds, controls, labels, truncation, style mixing (PNG + legend JSON)")
    .description(
      "Draws a sheet of faces of a model into one PNG: faces at native size (or --scale times, nearest neighbour) separated by " +
        "thin mid-grey (#808080) gaps, blocks separated by wider gaps. The image holds no text: F.json next to F.png (and the PNG's " +
        "npc-faces:sheet text chunk) is the legend (model name and SHA-256, parameters, pixel geometry, what every row and column is, " +
        "and the exact face request of every tile); stdout shows a summary of it.\n\n" +
        "Everything (flags, model, controls and labels, layout size, output path) is checked before any face is generated; a bad " +
        "input writes nothing. Exit status: 0 done, 1 failure (bad model file, unwritable output), 2 bad flags or values.",
    )
    .addCommand(SeedsCommand())
    .addCommand(ControlsCommand())
    .addCommand(LabelsCommand())
    .addCommand(TruncationCommand())
    .addCommand(MixingCommand())
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  npc-faces sheet seeds      --out sheets/seeds.png                                      (the bundled default model)\n" +
        "  npc-faces sheet seeds      --model faces.onnx --out sheets/seeds.png                   (seeds 0-63, 8 per row)\n" +
        "  npc-faces sheet controls   --model faces.onnx --out sheets/controls.png --scale 2      (every control, seeds 0-3, 7 steps)\n" +
        "  npc-faces sheet labels     --model faces.onnx --out sheets/eyes.png --attributes eyes  (every eye style, seeds 0-3)\n" +
        "  npc-faces sheet truncation --model faces.onnx --out sheets/truncation.png              (seeds 0-7, psi 1 ... 0.5)\n" +
        "  npc-faces sheet mixing     --model faces.onnx --out sheets/mixing.png --from-layer 3,7",
    );
}

function SeedsCommand(): Command {
  return AddCommonOptions(
    new Command("seeds")
      .summary("one face per seed, in reading order")
      .description("One face per seed, left to right then down, all with the same parameters (default: seeds 0-63, 8 per row, psi 1)."),
    true,
  )
    .option("--seeds <list>", "seeds and inclusive ranges, e.g. 0-63 or 5,9,100-115 (default: 0-63)", ParseSeedListArgument)
    .addOption(new Option("--columns <count>", "tiles per row").default(8).argParser(IntegerParser(1, 1024)))
    .action(async (flags: CommonFlags & { psi?: number; seeds?: number[]; columns: number }) => {
      await RunSheetAsync(flags, async (metadata) => {
        const { PlanSeedsSheet } = await import("../../sheets/seedsSheet.js");
        return PlanSeedsSheet(metadata, { ...Common(flags), psi: flags.psi, seeds: flags.seeds, columns: flags.columns });
      });
    });
}

function ControlsCommand(): Command {
  return AddCommonOptions(
    new Command("controls")
      .summary("each control swept from its min to its max, for a few seeds")
      .description(
        "One block per control, stacked top to bottom: a row per seed, a column per control value from the control's min (left) " +
          "to its max (right) in --steps even steps; the other controls stay at their defaults.",
      ),
    true,
  )
    .option("--controls <names>", "comma-separated control names, one block each, in this order (default: every control of the model; `npc-faces info` lists them)", ParseNameList)
    .option("--seeds <list>", "seeds, one row each (default: 0-3)", ParseSeedListArgument)
    .addOption(new Option("--steps <count>", "values per control, min and max included (2..64)").default(7).argParser(IntegerParser(2, 64)))
    .action(async (flags: CommonFlags & { psi?: number; controls?: string[]; seeds?: number[]; steps: number }) => {
      await RunSheetAsync(flags, async (metadata) => {
        const { PlanControlsSheet } = await import("../../sheets/controlsSheet.js");
        return PlanControlsSheet(metadata, { ...Common(flags), psi: flags.psi, controls: flags.controls, seeds: flags.seeds, steps: flags.steps });
      });
    });
}

function LabelsCommand(): Command {
  return AddCommonOptions(
    new Command("labels")
      .summary("conditional models: each categorical label's values (eye, mouth, hair styles ...), for a few seeds")
      .description(
        "One block per categorical label attribute of a conditional model, stacked top to bottom: a row per seed, a column per " +
          "value of the attribute, in the model's order; the other labels keep their --label values or are drawn per seed.",
      ),
    true,
  )
    .option("--attributes <names>", "comma-separated categorical attributes, one block each, in this order (default: every attribute with two or more values; `npc-faces info` lists them)", ParseNameList)
    .option("--seeds <list>", "seeds, one row each (default: 0-3)", ParseSeedListArgument)
    .addOption(new Option("--by <how>", "how each value is reached: label = set as the face's label; control = its label control (label_<attribute>_<value>) at its maximum, the seed keeping its own labels").choices(["label", "control"]).default("label"))
    .action(async (flags: CommonFlags & { psi?: number; attributes?: string[]; seeds?: number[]; by: "label" | "control" }) => {
      await RunSheetAsync(flags, async (metadata) => {
        const { PlanLabelsSheet } = await import("../../sheets/labelsSheet.js");
        return PlanLabelsSheet(metadata, { ...Common(flags), psi: flags.psi, attributes: flags.attributes, seeds: flags.seeds, by: flags.by });
      });
    });
}

function TruncationCommand(): Command {
  return AddCommonOptions(
    new Command("truncation")
      .summary("seeds at decreasing truncation psi")
      .description("A row per seed, a column per truncation psi: 1 = the face as sampled, 0 = the model's average face."),
    false,
  )
    .option("--seeds <list>", "seeds, one row each (default: 0-7)", ParseSeedListArgument)
    .option("--psi <list>", "comma-separated psi values in 0..1, one column each, in this order (default: 1,0.9,0.8,0.7,0.6,0.5)", ParsePsiList)
    .action(async (flags: CommonFlags & { seeds?: number[]; psi?: number[] }) => {
      await RunSheetAsync(flags, async (metadata) => {
        const { PlanTruncationSheet } = await import("../../sheets/truncationSheet.js");
        return PlanTruncationSheet(metadata, { ...Common(flags), seeds: flags.seeds, psis: flags.psi });
      });
    });
}

function MixingCommand(): Command {
  return AddCommonOptions(
    new Command("mixing")
      .summary("style mixing: coarse styles of the row seeds with fine styles of the column seeds")
      .description(
        "StyleGAN's style-mixing figure, one block per --from-layer value. Top row: the column seeds' own faces; left column: the row " +
          "seeds' own faces. Each inner tile takes the style layers below the crossover (coarse: pose, face shape) from its ROW seed and " +
          "the layers from the crossover up (finer: features, colours) from its COLUMN seed; its per-layer noise is the row seed's. " +
          "It is the runtime request { seed: row, mixSeed: column, mixCrossover: layer } (as bake --mix-seed --crossover).",
      ),
    true,
  )
    .option("--rows <list>", "seeds giving the coarse styles, one row each (default: 0-4)", ParseSeedListArgument)
    .option("--columns <list>", "seeds giving the fine styles, one column each (default: 5-9)", ParseSeedListArgument)
    .option(
      "--from-layer <layers>",
      "crossover style layers, comma-separated, one block each, in 1..numWs-1 (default: where the 16x16 and 64x64 synthesis layers start, e.g. 3,7 for a 64 px model: StyleGAN's coarse / middle / fine split)",
      ParseLayerList,
    )
    .action(async (flags: CommonFlags & { psi?: number; rows?: number[]; columns?: number[]; fromLayer?: number[] }) => {
      await RunSheetAsync(flags, async (metadata) => {
        const { PlanMixingSheet } = await import("../../sheets/mixingSheet.js");
        return PlanMixingSheet(metadata, { ...Common(flags), psi: flags.psi, rows: flags.rows, columns: flags.columns, fromLayers: flags.fromLayer });
      });
    });
}

/** Adds the flags every kind takes (`withPsi`: a single --psi; the truncation sheet has its own list). */
function AddCommonOptions(command: Command, withPsi: boolean): Command {
  command
    .option("--model <file>", `model file (.onnx) made by \`npc-faces export\`; ${DefaultModelHelp}`)
    .option("--out <file.png>", "the sheet to write; the legend goes to the same name with .json; parent folders are created, existing files replaced (required)");
  if (withPsi) command.option("--psi <number>", "truncation of every face, 0..1: 1 = as sampled, 0 = the average face (default: 1, the model as it is; games use the model's default, 0.7 for exports)", NumberInRangeParser(0, 1));
  return command
    .option("--noise-strength <number>", "multiplier of the per-layer noise, 0 = smooth (default: the model's)", ParseFiniteNumber)
    .option("--label <name=value>", "conditional models: a label value for every face, repeatable (default: the model's label frequencies; `npc-faces info` lists them)", CollectLabel)
    .addOption(new Option("--scale <factor>", "integer magnification of every face, nearest neighbour (1..16)").default(1).argParser(IntegerParser(1, 16)))
    .addOption(new Option("--gap <pixels>", "grey pixels between tiles and around the edge (0..64); blocks are max(2 x gap, tile / 4) apart").default(2).argParser(IntegerParser(0, 64)))
    .addOption(new Option("--batch <count>", "faces per inference run (1..256)").default(8).argParser(IntegerParser(1, 256)))
    .addOption(EngineOption())
    .addOption(new Option("--threads <count>", "[--engine native] onnxruntime-node threads per operator (default: onnxruntime's choice); the canonical engine is single-threaded").argParser(IntegerParser(1, 1024)))
    .option("--json", `${JsonHelp}; the legend is in the object`);
}

function Common(flags: CommonFlags): SheetCommonOptions {
  return { ...(flags.noiseStrength !== undefined ? { noiseStrength: flags.noiseStrength } : {}), ...(flags.label !== undefined ? { labels: flags.label } : {}) };
}

/** Parser of the truncation sheet's `--psi 1,0.75,0.5`. */
function ParsePsiList(text: string): number[] {
  const inRange = NumberInRangeParser(0, 1);
  return text.split(",").map((item, i) => {
    try {
      return inRange(item);
    } catch (error) {
      throw new InvalidArgumentError(`item ${i + 1}: ${(error as Error).message}`);
    }
  });
}

/** Parser of `--from-layer 3,7`. Whether the layers exist is checked against the model later. */
function ParseLayerList(text: string): number[] {
  const layer = IntegerParser(0, 1024);
  return text.split(",").map((item, i) => {
    try {
      return layer(item);
    } catch (error) {
      throw new InvalidArgumentError(`item ${i + 1}: ${(error as Error).message}`);
    }
  });
}

/** Loads the model, plans the sheet, checks the output, then generates and writes. */
async function RunSheetAsync(flags: CommonFlags, plan: (metadata: ModelMetadata) => Promise<SheetPlan>): Promise<void> {
  if (flags.out === undefined) throw new CliUsageError("required option '--out <file.png>' not specified");
  if (!/\.png$/i.test(flags.out)) throw new CliUsageError(`--out: expected a file name ending in .png (the legend goes next to it as .json), got "${flags.out}"`);
  const out = flags.out;
  // Heavy modules (onnxruntime) load only now: `--help` and flag errors stay fast.
  const [{ LoadModelForCliAsync, ModelOrDefault }, { PrepareSheet, RenderSheetAsync, SheetLegendPath, WriteSheetAsync }, { SheetInputError }, { FormatSheetLegendLines }, { CheckOutputFolderAsync, OutputFolderError }] = await Promise.all([
    import("../loadModelForCli.js"),
    import("../../sheets/renderSheet.js"),
    import("../../sheets/sheetPlan.js"),
    import("../../sheets/sheetLegend.js"),
    import("../../bake/bakeSeeds.js"),
  ]);
  const generator = await LoadModelForCliAsync(ModelOrDefault("--model", flags.model), { maxBatch: flags.batch, threads: flags.threads, engine: flags.engine });
  try {
    let sheet: SheetPlan;
    try {
      sheet = await plan(generator.metadata);
      PrepareSheet(generator.metadata, sheet, { scale: flags.scale, gap: flags.gap });
    } catch (error) {
      if (error instanceof SheetInputError) throw new CliUsageError(error.field in FlagOf ? `${FlagOf[error.field]}: ${error.detail}` : error.detail);
      if (IsNpcFacesError(error, "BAD_REQUEST")) throw new CliUsageError(error.message);
      throw error;
    }
    for (const path of [out, SheetLegendPath(out)]) {
      const info = await stat(path).catch(() => undefined);
      if (info?.isDirectory()) throw new CliFailure(`--out: ${path} is a folder`);
    }
    try {
      await CheckOutputFolderAsync(dirname(out));
    } catch (error) {
      if (error instanceof OutputFolderError) throw new CliFailure(`--out: ${error.message}`);
      throw error;
    }

    const started = performance.now();
    const rendered = await RenderSheetAsync(generator, sheet, { scale: flags.scale, gap: flags.gap });
    const seconds = (performance.now() - started) / 1000;
    let legendPath: string;
    try {
      legendPath = await WriteSheetAsync(out, rendered);
    } catch (error) {
      throw new CliFailure(`--out: ${(error as Error).message}`, { cause: error });
    }
    const { width, height } = rendered.image;
    if (flags.json) {
      WriteJsonResult("sheet", {
        kind: sheet.kind,
        file: resolve(out),
        legendFile: resolve(legendPath),
        width,
        height,
        bytes: rendered.png.length,
        tiles: rendered.tiles,
        generated: rendered.generated,
        seconds,
        engine: flags.engine,
        legend: rendered.legend,
      });
      return;
    }
    process.stdout.write(
      `sheet ${sheet.kind}: ${out} (${width}x${height}, ${FormatBytes(rendered.png.length)}) + ${legendPath}; ` +
        `${rendered.tiles} tiles, ${rendered.generated} faces generated in ${seconds.toFixed(2)} s\n` +
        FormatSheetLegendLines(rendered.legend).join("\n") +
        "\n",
    );
  } finally {
    await generator.disposeAsync();
  }
}
