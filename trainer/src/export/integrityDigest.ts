/**
 * Writes the model file's integrity digest (`integrity.graphSha256` in the npc-faces metadata): SHA-256 of the
 * serialised GraphProto, exactly the bytes the runtime hashes at load (`VerifyModelIntegrityAsync`). The exporter
 * stamps the ModelProto it builds; an existing file is stamped by `npc-faces export --stamp` (tools'
 * stampModelDigest.ts, which needs no trainer).
 */
import { createHash } from "node:crypto";
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import { MetadataKey } from "@npc-faces/runtime";

const { onnx } = onnxProto;

/**
 * Adds (or replaces) the graph digest in a model's npc-faces metadata entry, in place. The metadata sits outside
 * the graph, so writing the digest does not change what it covers.
 * @throws Error when the model has no graph or no npc-faces metadata entry
 */
export function StampGraphDigest(model: OnnxTypes.ModelProto): void {
  if (!model.graph) throw new Error("the model has no graph");
  const entry = model.metadataProps.find((e) => e.key === MetadataKey);
  if (!entry?.value) throw new Error(`the model has no "${MetadataKey}" metadata entry`);
  const graphSha256 = createHash("sha256").update(onnx.GraphProto.encode(model.graph).finish()).digest("hex");
  const { integrity: _old, ...document } = JSON.parse(entry.value) as Record<string, unknown>;
  entry.value = JSON.stringify({ ...document, integrity: { graphSha256 } });
}
