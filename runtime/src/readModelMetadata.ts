/**
 * Model file -> validated {@link ModelMetadata}, and the check that the graph's interface is the one the metadata
 * implies. Runs before any inference session is created, so a wrong file fails fast with a clear message.
 */
import { FormatName, FormatVersion, MetadataKey, ModelMetadataSchema, TensorNames, type ModelMetadata } from "./modelMetadata.js";
import { NpcFacesError } from "./npcFacesError.js";
import { ReadOnnxModel, type OnnxModelInfo } from "./onnxModelReader.js";

/** A model file's ONNX header and its validated metadata. */
export interface ModelFileInfo {
  readonly onnx: OnnxModelInfo;
  readonly metadata: ModelMetadata;
}

/**
 * Reads and validates the npc-faces metadata of a model file and checks the graph's inputs and outputs.
 * @param bytes the whole `.onnx` file
 * @param source path or URL of the file, for messages
 * @throws NpcFacesError NOT_ONNX, NOT_NPC_FACES_MODEL, FORMAT_TOO_NEW, BAD_METADATA or GRAPH_MISMATCH
 */
export function ReadModelFile(bytes: Uint8Array, source = "model"): ModelFileInfo {
  const onnx = ReadOnnxModel(bytes, source);
  const metadata = ParseModelMetadata(onnx, source);
  CheckGraphInterface(metadata, onnx.inputNames, onnx.outputNames, source);
  return { onnx, metadata };
}

/** {@link ReadModelFile}, returning the metadata only. */
export function ReadModelMetadata(bytes: Uint8Array, source = "model"): ModelMetadata {
  return ReadModelFile(bytes, source).metadata;
}

/**
 * Finds the `npc_faces` entry of an ONNX model's `metadata_props` and validates it.
 * @throws NpcFacesError NOT_NPC_FACES_MODEL, FORMAT_TOO_NEW or BAD_METADATA
 */
export function ParseModelMetadata(onnx: OnnxModelInfo, source = "model"): ModelMetadata {
  const entries = onnx.metadataProps.filter((e) => e.key === MetadataKey);
  if (entries.length === 0) {
    const producer = onnx.producerName ? ` (produced by "${onnx.producerName}")` : "";
    throw new NpcFacesError("NOT_NPC_FACES_MODEL", `${source}: an ONNX model${producer} but not an npc-faces model (no "${MetadataKey}" entry in metadata_props)`);
  }
  if (entries.length > 1) throw new NpcFacesError("BAD_METADATA", `${source}: metadata_props holds ${entries.length} "${MetadataKey}" entries, expected one`);
  return ParseMetadataJson(entries[0].value, source);
}

/**
 * Parses and validates the metadata JSON document.
 * @throws NpcFacesError FORMAT_TOO_NEW or BAD_METADATA
 */
export function ParseMetadataJson(json: string, source = "model"): ModelMetadata {
  const where = `${source}: metadata "${MetadataKey}"`;
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch (error) {
    throw new NpcFacesError("BAD_METADATA", `${where} is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new NpcFacesError("BAD_METADATA", `${where} is not a JSON object`);
  }
  // The version is checked before the schema: a newer document may legitimately not match this schema.
  const { format, formatVersion } = document as { format?: unknown; formatVersion?: unknown };
  if (format !== FormatName) throw new NpcFacesError("BAD_METADATA", `${where}: format: expected "${FormatName}", got ${JSON.stringify(format)}`);
  if (typeof formatVersion === "number" && formatVersion > FormatVersion) {
    throw new NpcFacesError(
      "FORMAT_TOO_NEW",
      `${source}: model format version ${formatVersion} is newer than this runtime reads (version ${FormatVersion}); upgrade @npc-faces/runtime`,
    );
  }
  const parsed = ModelMetadataSchema.safeParse(document);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((issue) => `${FormatPath(issue.path)}: ${issue.message}`);
    const more = parsed.error.issues.length > 3 ? ` (+${parsed.error.issues.length - 3} more)` : "";
    throw new NpcFacesError("BAD_METADATA", `${where}: ${issues.join("; ")}${more}`);
  }
  CheckConsistency(parsed.data, where);
  return parsed.data;
}

/** Cross-field rules the schema cannot express; they protect request building from out-of-range indices. */
function CheckConsistency(m: ModelMetadata, where: string): void {
  const fail = (path: string, message: string): never => {
    throw new NpcFacesError("BAD_METADATA", `${where}: ${path}: ${message}`);
  };
  const names = new Set<string>();
  m.controls.forEach((c, i) => {
    if (names.has(c.name)) fail(`controls[${i}].name`, `duplicate control "${c.name}"`);
    names.add(c.name);
    c.layers.forEach((l, j) => {
      if (l >= m.numWs) fail(`controls[${i}].layers[${j}]`, `layer ${l} out of range (numWs = ${m.numWs})`);
    });
  });
  if (m.noise === "constant" && m.noiseResolutions.length > 0) fail("noiseResolutions", 'expected none: the noise is "constant" (inside the graph)');
  const attributes = new Set<string>();
  m.labels.forEach((label, i) => {
    if (attributes.has(label.name)) fail(`labels[${i}].name`, `duplicate attribute "${label.name}"`);
    attributes.add(label.name);
    if (label.values.length === 0) fail(`labels[${i}].values`, "expected at least one value");
    if (label.default.length !== label.values.length) {
      fail(`labels[${i}].default`, `expected ${label.values.length} probabilities (one per value), got ${label.default.length}`);
    }
    if (label.offset + label.values.length > m.labelDim) {
      fail(`labels[${i}]`, `offset ${label.offset} + ${label.values.length} values exceed labelDim ${m.labelDim}`);
    }
  });
  m.labelTable?.forEach((row, i) => {
    if (row.length !== m.labelDim) fail(`labelTable[${i}]`, `expected ${m.labelDim} values (labelDim), got ${row.length}`);
  });
}

/** `controls[0].name` from a zod issue path. */
function FormatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(document)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** Names of the graph inputs a model with this metadata has, in feed order (contract). */
export function ExpectedInputNames(metadata: ModelMetadata): string[] {
  const names: string[] = [TensorNames.z, TensorNames.zMix, TensorNames.mix, TensorNames.psi];
  if (metadata.controls.length > 0) names.push(TensorNames.controls);
  if (metadata.labelDim > 0) names.push(TensorNames.label);
  names.push(TensorNames.noiseStrength);
  metadata.noiseResolutions.forEach((_, i) => names.push(`${TensorNames.noisePrefix}${i}`));
  return names;
}

/** Names of the graph outputs (contract). */
export function ExpectedOutputNames(): string[] {
  return [TensorNames.rgba, TensorNames.image];
}

/**
 * Checks that the graph's inputs and outputs are exactly those the metadata implies (order-insensitive).
 * Used on the file (before a session exists) and again on the session's reported names.
 * @throws NpcFacesError GRAPH_MISMATCH naming the missing and unexpected tensors
 */
export function CheckGraphInterface(metadata: ModelMetadata, inputNames: readonly string[], outputNames: readonly string[], source = "model"): void {
  const problems = [...Differences("input", ExpectedInputNames(metadata), inputNames), ...Differences("output", ExpectedOutputNames(), outputNames)];
  if (problems.length > 0) {
    throw new NpcFacesError("GRAPH_MISMATCH", `${source}: the graph does not match its metadata: ${problems.join("; ")}`);
  }
}

function Differences(kind: string, expected: readonly string[], actual: readonly string[]): string[] {
  const problems: string[] = [];
  const missing = expected.filter((n) => !actual.includes(n));
  const extra = actual.filter((n) => !expected.includes(n));
  const duplicates = actual.filter((n, i) => actual.indexOf(n) !== i);
  if (missing.length) problems.push(`missing ${kind}${missing.length > 1 ? "s" : ""} ${missing.map((n) => `"${n}"`).join(", ")}`);
  if (extra.length) problems.push(`unexpected ${kind}${extra.length > 1 ? "s" : ""} ${extra.map((n) => `"${n}"`).join(", ")}`);
  if (duplicates.length) problems.push(`duplicate ${kind} ${duplicates.map((n) => `"${n}"`).join(", ")}`);
  return problems;
}
