/**
 * `npc-faces info FILE`: validates a model file (metadata, graph interface, and that onnxruntime loads it) and
 * prints what a UI or a build script needs to know about it.
 */
import { stat } from "node:fs/promises";
import { Command } from "commander";
import { MetadataKey, type FaceGenerator, type ModelMetadata } from "@npc-faces/runtime";
import { ToolName } from "../../toolInfo.js";
import { DefaultModelHelp, FormatBytes, FormatIndexRanges, FormatTable } from "../cliFormat.js";

/** Parsed flags of `npc-faces info`. */
interface InfoFlags {
  json?: boolean;
}

/** `npc-faces info`: see its `--help` and docs/cli.md. */
export function InfoCommand(): Command {
  return new Command("info")
    .summary("validate a model file and print its metadata")
    .description(
      "Validates a model file (ONNX, npc-faces metadata, graph inputs and outputs, loadable by onnxruntime) and prints its " +
        "name, resolution, latent sizes, controls, labels, provenance and SHA-256. Exit status 1 if the file is not a valid model.",
    )
    .argument("[file]", `model file (.onnx); ${DefaultModelHelp}`)
    .option("--json", "print the model's metadata document (the raw JSON stored in the file), nothing else (default: a human summary)")
    .addHelpText("after", "\nExamples:\n  npc-faces info              # the bundled default model\n  npc-faces info models/faces.onnx\n  npc-faces info models/faces.onnx --json | jq .controls")
    .action(async (fileArgument: string | undefined, flags: InfoFlags) => {
      const { LoadModelForCliAsync, ModelOrDefault } = await import("../loadModelForCli.js");
      const model = ModelOrDefault("", fileArgument);
      const file = model.path;
      const generator = await LoadModelForCliAsync(model);
      try {
        if (flags.json) {
          const raw = generator.onnx.metadataProps.find((e) => e.key === MetadataKey)?.value ?? JSON.stringify(generator.metadata);
          process.stdout.write(`${JSON.stringify(JSON.parse(raw), null, 2)}\n`);
        } else {
          const bytes = (await stat(file)).size;
          if (generator.integrity === "absent") process.stderr.write(`${ToolName}: warning: ${file} has no integrity digest: a damaged copy would load and draw other faces\n`);
          process.stdout.write(`${FormatModelSummary(generator, file, bytes).join("\n")}\n`);
        }
      } finally {
        await generator.disposeAsync();
      }
    });
}

/** The human summary of a loaded model, one string per line. */
export function FormatModelSummary(generator: Pick<FaceGenerator, "metadata" | "modelHash" | "onnx" | "integrity">, file: string, bytes: number): string[] {
  const m: ModelMetadata = generator.metadata;
  const { onnx } = generator;
  const opsets = onnx.opsetImports.map((o) => `${o.domain || "ai.onnx"} ${o.version}`).join(", ");
  const producer = [onnx.producerName, onnx.producerVersion].filter(Boolean).join(" ") || "unknown";
  const p = m.provenance;
  const lines: string[] = [
    ...FormatTable([
      ["name", m.name],
      ["file", `${file} (${FormatBytes(bytes)})`],
      ["sha256", generator.modelHash],
      ["integrity", generator.integrity === "verified" ? `graph digest verified (${generator.metadata.integrity!.graphSha256.slice(0, 12)}…)` : "no graph digest (exported before npc-faces 0.2): damage to the weights would go unnoticed; add one with `npc-faces export --stamp FILE --out FILE`"],
      ["format", `${m.format} version ${m.formatVersion}; ONNX IR ${onnx.irVersion}, opset ${opsets}; produced by ${producer}`],
      ["resolution", `${m.resolution}x${m.resolution}`],
      ["latents", `z ${m.zDim}, w ${m.wDim}, ${m.numWs} style layers (w indices 0-${m.numWs - 1})`],
      ["noise", m.noise === "constant" ? "constant maps inside the graph (the source file's noise buffers; the same for every seed)" : `${m.noiseResolutions.length} inputs, resolutions ${m.noiseResolutions.join(", ")}`],
      ["defaults", `psi ${m.defaults.psi} (toward ${m.truncationCentre === "labels" ? "the mean face of each face's labels" : "the average face"}), noise strength ${m.defaults.noiseStrength}`],
    ]),
    `controls (${m.controls.length})${m.controls.length === 0 ? ": none" : ""}`,
    ...FormatTable(
      m.controls.map((c) => [c.name, JSON.stringify(c.label), c.kind, `${c.min}..${c.max}`, `default ${c.default}`, `layers ${FormatIndexRanges(c.layers)}`]),
      "  ",
    ),
    `labels (${m.labels.length}, label vector ${m.labelDim})${m.labels.length === 0 ? ": none (unconditional model)" : ""}`,
    ...FormatTable(
      m.labels.map((l) => [l.name, `offset ${l.offset}`, l.values.join(", ")]),
      "  ",
    ),
    "provenance",
    ...FormatTable(
      [
        ["trained", p.trained ? `yes, ${p.kimg} kimg` : "no (random weights)"],
        ["dataset", p.dataset ?? "none"],
        ["licenses", p.licenses.length ? p.licenses.join("; ") : "none"],
        ["credits", p.credits.length ? p.credits.join("; ") : "none"],
        ["tool", p.tool],
        ...(p.imported
          ? [["imported", `${p.imported.format} ${p.imported.file} (${p.imported.generator}, ${p.imported.resolution} px${p.imported.kimg === undefined ? "" : `, ${p.imported.kimg} kimg`}), sha256 ${p.imported.sha256}`]]
          : []),
        ...(p.metrics && Object.keys(p.metrics).length
          ? [["metrics", Object.entries(p.metrics).map(([k, v]) => `${k} ${v}`).join(", ")]]
          : []),
        ...(p.notes ? [["notes", p.notes]] : []),
      ],
      "  ",
    ),
    `architecture  ${Object.entries(m.architecture).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(" ")}`,
  ];
  return lines;
}
