/**
 * The model file's integrity digest: SHA-256 of the serialised graph (every node and weight), stored in the
 * metadata at export (`integrity.graphSha256`) and checked before a session is created. The metadata itself is
 * outside the digest (it holds it), and is validated by its schema instead.
 */
import type { ModelMetadata } from "./modelMetadata.js";
import { NpcFacesError } from "./npcFacesError.js";
import type { OnnxModelInfo } from "./onnxModelReader.js";

/** What a load found: the digest matched, or the file predates digests (`info` warns about those). */
export type ModelIntegrity = "verified" | "absent";

/** SHA-256 (lowercase hex) of the file's graph payload bytes, in file order. */
export async function GraphSha256Async(bytes: Uint8Array, onnx: OnnxModelInfo): Promise<string> {
  const ranges = onnx.graphByteRanges;
  // One graph field (every exported file): hash it in place; several (legal protobuf): hash their concatenation.
  const graph = ranges.length === 1 ? bytes.subarray(ranges[0][0], ranges[0][1]) : Concat(ranges.map(([start, end]) => bytes.subarray(start, end)));
  return Sha256HexAsync(graph);
}

/**
 * Checks the graph against the metadata's digest.
 * @throws NpcFacesError CORRUPT_MODEL when the digest does not match
 */
export async function VerifyModelIntegrityAsync(bytes: Uint8Array, onnx: OnnxModelInfo, metadata: ModelMetadata, source = "model"): Promise<ModelIntegrity> {
  const expected = metadata.integrity?.graphSha256;
  if (expected === undefined) return "absent";
  const actual = await GraphSha256Async(bytes, onnx);
  if (actual !== expected) {
    throw new NpcFacesError(
      "CORRUPT_MODEL",
      `${source}: the model's weights or graph are damaged (graph SHA-256 ${actual.slice(0, 12)}…, the metadata records ${expected.slice(0, 12)}…); get a fresh copy of the file`,
    );
  }
  return "verified";
}

/** SHA-256 of bytes as lowercase hex, with Web Crypto (available in browsers, workers and Node >= 19). */
export async function Sha256HexAsync(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function Concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
