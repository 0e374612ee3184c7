/**
 * `npc-faces import`'s work: a PyTorch StyleGAN2 file (NVIDIA network pickle or rosinality checkpoint) -> the bytes
 * of an npc-faces model file, with provenance (source format, file hash, resolution, kimg), the licence the user
 * states, and SeFa controls computed from the imported weights. Nothing in the file is executed (safe unpickler).
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";
import type { ModelLabel, ModelMetadata } from "@npc-faces/runtime";
import type { ExportControl, NoiseSource } from "@npc-faces/trainer";
import { ToolLabel } from "../toolInfo.js";
import type { ImportedGenerator, ImportFormat } from "./importedGenerator.js";
import { NvidiaGeneratorToNpcFaces } from "./nvidiaLayout.js";
import { ReadNvidiaPickle } from "./nvidiaPickle.js";
import { ReadRosinalityCheckpoint } from "./rosinalityCheckpoint.js";
import { RosinalityGeneratorToNpcFaces } from "./rosinalityLayout.js";
import { IsLegacyTorchSave } from "./torchLegacyStorage.js";

/** Options of {@link ImportCheckpointAsync}. */
export interface ImportOptions {
  /** The file's bytes and name (the name gives NVIDIA snapshots' kimg and appears in provenance). */
  readonly bytes: Uint8Array;
  readonly fileName: string;
  /** Licence text of the weights (required: imported weights come with their own terms). */
  readonly licence: string;
  readonly name?: string;
  /** `seeded` (default): per-face noise from the seed; `constant`: the file's noise buffers. */
  readonly noise?: NoiseSource;
  /** Number of SeFa controls (default 4). */
  readonly controls?: number;
  readonly weightType?: "float32" | "float16";
  /** Default noise strength recorded in the model (default 1). */
  readonly noiseStrength?: number;
  /** Credits recorded in the provenance. */
  readonly credits?: readonly string[];
}

/** Result of {@link ImportCheckpointAsync}. */
export interface ImportResult {
  readonly bytes: Uint8Array;
  readonly generator: ImportedGenerator;
  readonly provenance: ModelMetadata["provenance"];
}

/** Which reader a file needs, from its first bytes: torch.save (a zip, or the legacy stream) or a plain pickle. */
export function DetectImportFormat(bytes: Uint8Array, fileName: string): ImportFormat {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return "rosinality-pt";
  if (IsLegacyTorchSave(bytes)) return "rosinality-pt"; // torch.save before torch 1.6
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return "nvidia-pkl";
  throw new Error(`${fileName}: not a PyTorch StyleGAN2 file (neither a pickle nor a torch.save zip)`);
}

/** The training progress NVIDIA writes into snapshot names (`network-snapshot-000120.pkl` -> 120). */
export function KimgFromFileName(fileName: string): number | undefined {
  const match = /network-snapshot-(\d+)\.pkl$/i.exec(fileName);
  return match ? Number(match[1]) : undefined;
}

/** Reads, maps and exports. Throws one-line messages for files it does not import. */
export async function ImportCheckpointAsync(options: ImportOptions): Promise<ImportResult> {
  const { bytes, fileName } = options;
  const source = basename(fileName);
  if (options.licence.trim() === "") throw new Error("a licence text is required");
  const noise = options.noise ?? "seeded";
  const format = DetectImportFormat(bytes, source);
  const trainer = await import("@npc-faces/trainer");
  let generator: ImportedGenerator;
  let dataset: string | undefined;
  if (format === "nvidia-pkl") {
    const contents = ReadNvidiaPickle(bytes, source);
    generator = NvidiaGeneratorToNpcFaces(contents.generator, contents.generatorKey, { noise });
    const path = contents.trainingSetKwargs?.get("path");
    if (typeof path === "string") dataset = basename(path);
  } else {
    const checkpoint = ReadRosinalityCheckpoint(bytes, source);
    generator = RosinalityGeneratorToNpcFaces(checkpoint, { noise });
    if (!generator.wAvgRecorded) {
      // rosinality files without `latent_avg`: the mean of w over fixed latents, as its `mean_latent` estimates it.
      await InitializeTfjsAsync(trainer);
      generator.weights.set("mapping.w_avg", trainer.EstimateWAvg(generator.config, generator.weights, 4096));
    }
  }
  const { config, weights } = generator;
  trainer.ValidateGeneratorConfig(config);

  const count = Math.min(options.controls ?? 4, config.wDim);
  const controls: ExportControl[] = trainer.UnsupervisedControls(config, weights, count);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const kimg = format === "nvidia-pkl" ? KimgFromFileName(source) : undefined;
  const provenance: ModelMetadata["provenance"] = {
    trained: true,
    ...(dataset ? { dataset } : {}),
    licenses: [options.licence.trim()],
    credits: [...(options.credits ?? [])],
    kimg: kimg ?? 0,
    tool: ToolLabel,
    notes: `imported from ${source} (${format === "nvidia-pkl" ? "NVIDIA stylegan2-ada-pytorch network pickle" : "rosinality stylegan2-pytorch checkpoint"}, ${generator.generatorKey}); ${[...generator.notes, `noise ${noise}`, generator.wAvgRecorded ? "w_avg from the file" : "w_avg estimated at import"].join("; ")}`,
    imported: { format, file: source, sha256, generator: generator.generatorKey, resolution: config.resolution, ...(kimg === undefined ? {} : { kimg }) },
  };
  const name = options.name ?? source.replace(/\.(pkl|pt|pth)$/i, "");
  const bytesOut = trainer.ExportGeneratorOnnx({
    config,
    weights,
    name,
    controls,
    labels: ClassLabels(config.labelDim),
    provenance,
    defaults: { psi: 0.7, noiseStrength: options.noiseStrength ?? 1 },
    weightType: options.weightType ?? "float32",
  });
  return { bytes: bytesOut, generator, provenance };
}

/** NVIDIA's conditional models take a one-hot class vector: one attribute `class` with values 0..c-1. */
function ClassLabels(labelDim: number): ModelLabel[] {
  if (labelDim === 0) return [];
  return [{ name: "class", offset: 0, values: Array.from({ length: labelDim }, (_, i) => `class_${i}`), default: new Array<number>(labelDim).fill(1 / labelDim), sampling: "onehot" }];
}

async function InitializeTfjsAsync(trainer: typeof import("@npc-faces/trainer")): Promise<void> {
  try {
    await trainer.InitializeTfjsBackendAsync("wasm");
  } catch {
    await trainer.InitializeTfjsBackendAsync("cpu");
  }
}

