/**
 * A minimal protobuf wire-format reader for ONNX `ModelProto` files: enough to validate the framing, read the
 * `metadata_props` and list the graph's inputs and outputs before a (costly) inference session is created.
 * No dependency (the runtime ships to browsers); large payloads (initializers, nodes) are skipped, never copied.
 *
 * Field numbers are from onnx/onnx.proto (stable since IR version 3).
 */
import { NpcFacesError } from "./npcFacesError.js";

/** One `metadata_props` entry (StringStringEntryProto). */
export interface OnnxMetadataEntry {
  readonly key: string;
  readonly value: string;
}

/** One `opset_import` entry (OperatorSetIdProto). */
export interface OnnxOpsetImport {
  /** Operator domain; "" is the default ONNX domain. */
  readonly domain: string;
  readonly version: number;
}

/** What {@link ReadOnnxModel} extracts from a model file. */
export interface OnnxModelInfo {
  /** `ir_version` (ONNX IR version of the file). */
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly opsetImports: readonly OnnxOpsetImport[];
  /** `metadata_props`, in file order. */
  readonly metadataProps: readonly OnnxMetadataEntry[];
  /** Names of the graph inputs a caller must feed (inputs that are also initializers are left out, as onnxruntime does). */
  readonly inputNames: readonly string[];
  /** Names of the graph outputs. */
  readonly outputNames: readonly string[];
  /**
   * Byte ranges `[start, end)` of the file's `graph` field payloads (the serialised GraphProto: nodes, weights,
   * inputs, outputs), in file order; one for every file the exporter writes. The integrity digest covers them.
   */
  readonly graphByteRanges: readonly (readonly [number, number])[];
}

/** Protobuf wire types; 3 and 4 (groups) are deprecated and never appear in ONNX files. */
const WireType = { Varint: 0, I64: 1, Len: 2, I32: 5 } as const;

// ModelProto
const ModelIrVersion = 1;
const ModelProducerName = 2;
const ModelProducerVersion = 3;
const ModelGraph = 7;
const ModelOpsetImport = 8;
const ModelMetadataProps = 14;
// GraphProto
const GraphInitializer = 5;
const GraphInput = 11;
const GraphOutput = 12;
// TensorProto / ValueInfoProto / StringStringEntryProto / OperatorSetIdProto
const TensorName = 8;
const ValueInfoName = 1;
const EntryKey = 1;
const EntryValue = 2;
const OpsetDomain = 1;
const OpsetVersion = 2;

/** Thrown inside the reader; converted to NOT_ONNX with the source name at the top. */
class WireError extends Error {}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A cursor over one message's bytes [start, end) of the file. */
class WireReader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
    readonly what: string,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint as a number (exact up to 2^53; larger int64 values lose precision, which nothing here needs). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError(`${this.what}: varint runs past the end at byte ${this.pos}`);
      const b = this.bytes[this.pos++];
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new WireError(`${this.what}: varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** Reads a field tag; returns field number and wire type. */
  tag(): { field: number; wire: number; at: number } {
    const at = this.pos;
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0 || field > 0x1fffffff) throw new WireError(`${this.what}: invalid field number ${field} at byte ${at}`);
    if (wire !== WireType.Varint && wire !== WireType.I64 && wire !== WireType.Len && wire !== WireType.I32) {
      throw new WireError(`${this.what}: unsupported wire type ${wire} (field ${field}) at byte ${at}`);
    }
    return { field, wire, at };
  }

  /** Returns the [start, end) of a length-delimited payload and moves past it. */
  len(field: number): [number, number] {
    const at = this.pos;
    const n = this.varint();
    const start = this.pos;
    if (n > this.end - start) {
      throw new WireError(`${this.what}: field ${field} at byte ${at} declares ${n} bytes but only ${this.end - start} remain`);
    }
    this.pos = start + n;
    return [start, start + n];
  }

  /** Skips a field's payload of the given wire type. */
  skip(field: number, wire: number): void {
    if (wire === WireType.Varint) this.varint();
    else if (wire === WireType.Len) this.len(field);
    else {
      const size = wire === WireType.I64 ? 8 : 4;
      if (size > this.end - this.pos) throw new WireError(`${this.what}: field ${field} runs past the end at byte ${this.pos}`);
      this.pos += size;
    }
  }

  string(field: number): string {
    const [start, end] = this.len(field);
    try {
      return utf8.decode(this.bytes.subarray(start, end));
    } catch {
      throw new WireError(`${this.what}: field ${field} at byte ${start} is not valid UTF-8`);
    }
  }

  /** A sub-reader over a length-delimited field (no copy). */
  message(field: number, what: string): WireReader {
    const [start, end] = this.len(field);
    return new WireReader(this.bytes, start, end, what);
  }

  /** Fails unless the field has the wire type its schema says. */
  expect(field: number, wire: number, expected: number, at: number): void {
    if (wire !== expected) throw new WireError(`${this.what}: field ${field} at byte ${at} has wire type ${wire}, expected ${expected}`);
  }
}

/** Reads the string field `wanted` of a small message (key/value entries, names); other fields are skipped. */
function ReadStringFields(reader: WireReader, wanted: readonly number[]): Map<number, string> {
  const found = new Map<number, string>();
  while (!reader.done) {
    const { field, wire, at } = reader.tag();
    if (wanted.includes(field)) {
      reader.expect(field, wire, WireType.Len, at);
      found.set(field, reader.string(field));
    } else {
      reader.skip(field, wire);
    }
  }
  return found;
}

function ReadGraph(reader: WireReader, inputs: string[], outputs: string[], initializers: Set<string>): void {
  while (!reader.done) {
    const { field, wire, at } = reader.tag();
    if (field === GraphInput || field === GraphOutput) {
      reader.expect(field, wire, WireType.Len, at);
      const kind = field === GraphInput ? "input" : "output";
      const info = ReadStringFields(reader.message(field, `graph ${kind} at byte ${at}`), [ValueInfoName]);
      (field === GraphInput ? inputs : outputs).push(info.get(ValueInfoName) ?? "");
    } else if (field === GraphInitializer) {
      reader.expect(field, wire, WireType.Len, at);
      // Only the name is read; raw_data is skipped as a length, never copied.
      const tensor = ReadStringFields(reader.message(field, `graph initializer at byte ${at}`), [TensorName]);
      initializers.add(tensor.get(TensorName) ?? "");
    } else {
      reader.skip(field, wire);
    }
  }
}

/**
 * Walks an ONNX `ModelProto` and returns its header, metadata and graph interface.
 * @param bytes the whole model file
 * @param source where the bytes came from (a path or URL), used in error messages
 * @throws NpcFacesError NOT_ONNX when the bytes are not a well-formed ModelProto with a graph
 */
export function ReadOnnxModel(bytes: Uint8Array, source = "model"): OnnxModelInfo {
  if (bytes.length === 0) throw new NpcFacesError("NOT_ONNX", `${source}: not an ONNX model (the file is empty)`);
  try {
    const reader = new WireReader(bytes, 0, bytes.length, "ModelProto");
    let irVersion: number | undefined;
    let producerName = "";
    let producerVersion = "";
    const graphByteRanges: [number, number][] = [];
    const opsetImports: OnnxOpsetImport[] = [];
    const metadataProps: OnnxMetadataEntry[] = [];
    const inputs: string[] = [];
    const outputs: string[] = [];
    const initializers = new Set<string>();
    while (!reader.done) {
      const { field, wire, at } = reader.tag();
      switch (field) {
        case ModelIrVersion:
          reader.expect(field, wire, WireType.Varint, at);
          irVersion = reader.varint();
          break;
        case ModelProducerName:
          reader.expect(field, wire, WireType.Len, at);
          producerName = reader.string(field);
          break;
        case ModelProducerVersion:
          reader.expect(field, wire, WireType.Len, at);
          producerVersion = reader.string(field);
          break;
        case ModelGraph: {
          reader.expect(field, wire, WireType.Len, at);
          // A repeated occurrence of a message field merges in protobuf; concatenating the lists is that merge.
          const graph = reader.message(field, `graph at byte ${at}`);
          graphByteRanges.push([graph.pos, graph.end]);
          ReadGraph(graph, inputs, outputs, initializers);
          break;
        }
        case ModelOpsetImport: {
          reader.expect(field, wire, WireType.Len, at);
          const opset = reader.message(field, `opset_import at byte ${at}`);
          let domain = "";
          let version = 0;
          while (!opset.done) {
            const t = opset.tag();
            if (t.field === OpsetDomain) {
              opset.expect(t.field, t.wire, WireType.Len, t.at);
              domain = opset.string(t.field);
            } else if (t.field === OpsetVersion) {
              opset.expect(t.field, t.wire, WireType.Varint, t.at);
              version = opset.varint();
            } else {
              opset.skip(t.field, t.wire);
            }
          }
          opsetImports.push({ domain, version });
          break;
        }
        case ModelMetadataProps: {
          reader.expect(field, wire, WireType.Len, at);
          const entry = ReadStringFields(reader.message(field, `metadata_props at byte ${at}`), [EntryKey, EntryValue]);
          metadataProps.push({ key: entry.get(EntryKey) ?? "", value: entry.get(EntryValue) ?? "" });
          break;
        }
        default:
          reader.skip(field, wire);
      }
    }
    if (irVersion === undefined || irVersion === 0) throw new WireError("no ir_version");
    if (graphByteRanges.length === 0) throw new WireError("no graph");
    return {
      irVersion,
      producerName,
      producerVersion,
      opsetImports,
      metadataProps,
      inputNames: inputs.filter((name) => !initializers.has(name)),
      outputNames: outputs,
      graphByteRanges,
    };
  } catch (error) {
    if (error instanceof WireError) throw new NpcFacesError("NOT_ONNX", `${source}: not an ONNX model (${error.message})`);
    throw error;
  }
}
