/**
 * `export --stamp` without the trainer: writes `integrity.graphSha256` into a model file's npc-faces metadata by
 * rewriting only that one `metadata_props` entry of the ModelProto (protobuf wire format). Every other field keeps
 * its bytes, so the graph and the faces are unchanged. This keeps the trainer (and tfjs, onnx-proto) out of the
 * light install that a build engineer uses.
 */
import { createHash } from "node:crypto";
import { MetadataKey } from "@npc-faces/runtime";

const ModelGraph = 7;
const ModelMetadataProps = 14;
const WireLen = 2;

/**
 * The model with its graph digest added (or replaced).
 * @throws Error when the bytes are not a ModelProto with a graph and an npc-faces metadata entry
 */
export function StampModelDigest(bytes: Uint8Array): Uint8Array {
  const fields = TopLevelFields(bytes);
  const graphs = fields.filter((f) => f.field === ModelGraph && f.wire === WireLen);
  if (graphs.length === 0) throw new Error("the model has no graph");
  const hash = createHash("sha256");
  for (const graph of graphs) hash.update(bytes.subarray(graph.payloadStart, graph.end));
  const graphSha256 = hash.digest("hex");

  let stamped = false;
  const parts = fields.map((f) => {
    const whole = bytes.subarray(f.start, f.end);
    if (f.field !== ModelMetadataProps || f.wire !== WireLen) return whole;
    const entry = ReadEntry(bytes.subarray(f.payloadStart, f.end));
    if (entry.key !== MetadataKey) return whole;
    // Same document as the exporter writes: the old digest (if any) dropped, the new one last.
    const { integrity: _old, ...document } = JSON.parse(entry.value) as Record<string, unknown>;
    stamped = true;
    return EncodeEntry(MetadataKey, JSON.stringify({ ...document, integrity: { graphSha256 } }));
  });
  if (!stamped) throw new Error(`the model has no "${MetadataKey}" metadata entry`);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

interface Field {
  readonly field: number;
  readonly wire: number;
  /** Where the tag starts. */
  readonly start: number;
  /** Where a length-delimited payload starts (after its length). */
  readonly payloadStart: number;
  readonly end: number;
}

function TopLevelFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) throw new Error(`not an ONNX model: varint runs past the end at byte ${pos}`);
      const b = bytes[pos++];
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error(`not an ONNX model: varint longer than 10 bytes at byte ${pos}`);
  };
  while (pos < bytes.length) {
    const start = pos;
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let payloadStart = pos;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === WireLen) {
      const n = varint();
      payloadStart = pos;
      pos += n;
    } else throw new Error(`not an ONNX model: wire type ${wire} at byte ${start}`);
    if (pos > bytes.length) throw new Error(`not an ONNX model: field ${field} at byte ${start} runs past the end`);
    fields.push({ field, wire, start, payloadStart, end: pos });
  }
  return fields;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A StringStringEntryProto's key (field 1) and value (field 2). */
function ReadEntry(bytes: Uint8Array): { key: string; value: string } {
  let key = "";
  let value = "";
  for (const f of TopLevelFields(bytes)) {
    if (f.wire !== WireLen) continue;
    if (f.field === 1) key = utf8.decode(bytes.subarray(f.payloadStart, f.end));
    if (f.field === 2) value = utf8.decode(bytes.subarray(f.payloadStart, f.end));
  }
  return { key, value };
}

function EncodeEntry(key: string, value: string): Uint8Array {
  const k = new TextEncoder().encode(key);
  const v = new TextEncoder().encode(value);
  const entry = [...Tag(1), ...Varint(k.length), ...k, ...Tag(2), ...Varint(v.length), ...v];
  return Uint8Array.from([...Tag(ModelMetadataProps), ...Varint(entry.length), ...entry]);
}

function Tag(field: number): number[] {
  return Varint(field * 8 + WireLen);
}

function Varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}
