/**
 * Hand-made ONNX files for reader and validation tests: a graph with the npc-faces interface (no nodes needed,
 * the reader never looks at them) and a metadata document, each overridable.
 */
import onnxProto from "onnx-proto";
import { ExpectedInputNames, ExpectedOutputNames, FormatName, FormatVersion, MetadataKey, type ModelMetadata, type NpcFacesError } from "@npc-faces/runtime";

// onnx-proto is CommonJS: its namespace is reachable only through the default export under ESM.
const { onnx } = onnxProto;

/** A valid metadata document: 16x16, 4 w layers, 3 noise inputs, 2 controls, unconditional. */
export function SampleMetadata(overrides: Partial<ModelMetadata> = {}): ModelMetadata {
  return {
    format: FormatName,
    formatVersion: FormatVersion,
    name: "fixture",
    resolution: 16,
    zDim: 8,
    wDim: 8,
    numWs: 4,
    labelDim: 0,
    noiseResolutions: [4, 8, 8],
    controls: [
      { name: "smile", label: "Smile", kind: "sefa", min: -3, max: 3, default: 0, layers: [0, 1] },
      { name: "age", label: "Age", kind: "sefa", min: -2, max: 2, default: 0.5, layers: [2, 3] },
    ],
    labels: [],
    defaults: { psi: 0.7, noiseStrength: 1 },
    architecture: {},
    provenance: { trained: false, licenses: [], credits: [], kimg: 0, tool: "test" },
    ...overrides,
  };
}

/** The NpcFacesError that `action` throws (fails the test when it throws nothing). */
export function ErrorOf(action: () => unknown): NpcFacesError {
  try {
    action();
  } catch (error) {
    return error as NpcFacesError;
  }
  throw new Error("expected an error");
}

/** A conditional variant: one 3-value attribute and one scalar attribute (labelDim 4). */
export function ConditionalMetadata(): ModelMetadata {
  return SampleMetadata({
    labelDim: 4,
    labels: [
      { name: "hair", offset: 0, values: ["black", "brown", "blond"], default: [0.5, 0.3, 0.2] },
      { name: "glasses", offset: 3, values: ["yes"], default: [0.1] },
    ],
  });
}

/** Options of {@link CraftOnnxModel}. */
export interface CraftOptions {
  /** The metadata document (object -> JSON), a raw string, or `null` for no npc_faces entry. */
  metadata?: unknown;
  /** Graph inputs (default: what the metadata implies). */
  inputs?: string[];
  /** Graph outputs (default: rgba, image). */
  outputs?: string[];
  /** Initializers (name only, a few bytes of raw data). */
  initializers?: string[];
  /** Other metadata_props entries. */
  extraProps?: Record<string, string>;
}

/** Serialises a ModelProto with the given interface and metadata. */
export function CraftOnnxModel(options: CraftOptions = {}): Uint8Array {
  const metadata = options.metadata === undefined ? SampleMetadata() : options.metadata;
  const inputs = options.inputs ?? (metadata !== null && typeof metadata === "object" ? ExpectedInputNames(metadata as ModelMetadata) : []);
  const outputs = options.outputs ?? ExpectedOutputNames();
  const valueInfo = (name: string) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "N" }] } } } });
  const props: { key: string; value: string }[] = Object.entries(options.extraProps ?? {}).map(([key, value]) => ({ key, value }));
  if (metadata !== null) props.push({ key: MetadataKey, value: typeof metadata === "string" ? metadata : JSON.stringify(metadata) });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "fixture",
    producerVersion: "1",
    graph: {
      name: "g",
      input: inputs.map(valueInfo),
      output: outputs.map(valueInfo),
      initializer: (options.initializers ?? []).map((name) => ({ name, dataType: 1, dims: [2], rawData: new Uint8Array(8) })),
    },
    metadataProps: props,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A deterministic byte generator for "random file" tests (xorshift32). */
export function PseudoRandomBytes(seed: number, length: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The first 33 bytes of a PNG file (signature + IHDR of a 1x1 RGBA image). */
export const PngHeader = Uint8Array.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
  0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89,
]);
