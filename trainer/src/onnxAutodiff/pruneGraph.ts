/**
 * Removes the nodes and initializers no graph output depends on. onnxruntime executes dead nodes (measured: an
 * unused 3×3 conv still costs its full time), and a training graph has many: the forward's inference-only outputs,
 * the loss terms a gradient does not need, the other half of a shared forward.
 */
import type { onnx as OnnxTypes } from "onnx-proto";

type ModelProto = OnnxTypes.ModelProto;

/** Returns `model` with its graph pruned to what its outputs need (same object, graph edited in place). */
export function PruneUnusedNodes(model: ModelProto): ModelProto {
  const graph = model.graph;
  if (!graph) return model;
  const needed = new Set<string>((graph.output ?? []).map((o) => o.name ?? ""));
  const nodes = graph.node ?? [];
  const keep: boolean[] = new Array(nodes.length).fill(false);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!(node.output ?? []).some((o) => needed.has(o))) continue;
    keep[i] = true;
    for (const input of node.input ?? []) if (input) needed.add(input);
  }
  graph.node = nodes.filter((_, i) => keep[i]);
  graph.initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name ?? ""));
  return model;
}
