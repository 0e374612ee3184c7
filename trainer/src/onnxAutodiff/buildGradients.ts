/**
 * Reverse-mode differentiation of an ONNX graph: appends to a graph the nodes that compute the gradient of one
 * tensor (summed to a scalar) with respect to others, using the rules of {@link GradientRules}. Knows nothing of
 * any particular network. Because the backward nodes are themselves differentiable, calling it again on the
 * result (with a loss built from the first gradients) gives second-order gradients.
 */
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import { OnnxGraphBuilder, type OnnxDim } from "../export/onnxGraphBuilder.js";
import { GradientEmitter } from "./gradientEmitter.js";
import { GradientRules, NonDifferentiableOps, type GradientContext, type GradientRuleOptions } from "./gradientRules.js";
import { InferShapes, type TensorInfo } from "./graphShapes.js";
import { PruneUnusedNodes } from "./pruneGraph.js";

const { onnx } = onnxProto;
type ModelProto = OnnxTypes.ModelProto;

/** Options of {@link AddGradients}. */
export interface AddGradientsOptions extends Partial<GradientRuleOptions> {
  /**
   * Values of named (symbolic) input dimensions, e.g. `{ N: 8 }`. Rules that need a static size (Concat along the
   * batch, ReduceMean over it) then bake it in: the gradient graph is valid for that size only.
   */
  readonly symbolicDims?: Readonly<Record<string, number>>;
}

/** Default rule options: see docs/autodiff.md for the measurement behind the Conv weight-gradient form. */
export const DefaultGradientRuleOptions: GradientRuleOptions = { convWeightGradient: "auto", convInputGradient: "auto" };

/** The gradients {@link AddGradients} appended, and the shapes it inferred for the forward graph. */
export interface GradientResult {
  /** Gradient tensor per `wrt` name (zeros where the loss does not depend on it). */
  readonly gradients: ReadonlyMap<string, string>;
  /** Inferred shapes of the forward tensors (for declaring outputs). */
  readonly shapes: ReadonlyMap<string, TensorInfo>;
}

/**
 * Appends to `g` the backward nodes of d(sum of `loss`)/d(each of `wrt`). `wrt` may name graph inputs,
 * initializers or intermediate tensors. Throws naming the node when an op on the path has no rule.
 */
export function AddGradients(g: OnnxGraphBuilder, loss: string, wrt: readonly string[], options: AddGradientsOptions = {}): GradientResult {
  const ruleOptions: GradientRuleOptions = {
    convWeightGradient: options.convWeightGradient ?? DefaultGradientRuleOptions.convWeightGradient,
    convInputGradient: options.convInputGradient ?? DefaultGradientRuleOptions.convInputGradient,
  };
  const nodes = [...g.nodeList];
  const failures = new Map<string, string>();
  const shapes = InferShapes(g.inputList, g.initializerList, nodes, options.symbolicDims, failures);
  for (const name of [loss, ...wrt]) {
    if (shapes.has(name)) continue;
    throw new Error(`autodiff: tensor "${name}" ${failures.has(name) ? `has no known shape: ${failures.get(name)}` : "is not in the graph"}`);
  }

  // Tensors that depend differentiably on wrt (forward sweep) ...
  const requires = new Set<string>(wrt);
  for (const node of nodes) {
    if (NonDifferentiableOps.has(node.opType ?? "")) continue;
    if (!(node.input ?? []).some((i) => requires.has(i))) continue;
    // Float outputs carry gradients; outputs of unknown type are kept too, so that an op shape inference does not
    // know fails loudly (no rule / no shape) instead of silently stopping the gradient.
    for (const o of node.output ?? []) if ((shapes.get(o)?.elemType ?? 1) === 1) requires.add(o);
  }
  // ... and that the loss depends on (backward sweep): only nodes in both get backward nodes.
  const needed = new Set<string>([loss]);
  const active: OnnxTypes.INodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!(node.output ?? []).some((o) => needed.has(o))) continue;
    if (!(node.output ?? []).some((o) => requires.has(o))) continue;
    active.push(node);
    for (const input of node.input ?? []) if (requires.has(input)) needed.add(input);
  }

  const e = new GradientEmitter(g, shapes, failures);
  const contributions = new Map<string, string[]>();
  const total = (name: string): string | null => {
    const list = contributions.get(name);
    if (!list || list.length === 0) return null;
    // Sum once and remember, so that a tensor used by several consumers is summed a single time.
    let sum = list[0];
    for (let k = 1; k < list.length; k++) sum = e.add(sum, list[k]);
    contributions.set(name, [sum]);
    return sum;
  };
  const lossDims = shapes.get(loss)!.dims;
  const seed = lossDims.every((d) => d === 1) ? g.constFloat([1], lossDims as number[]) : e.node("Expand", [e.scalar(1), e.shapeOf(loss)]);
  contributions.set(loss, [seed]);

  for (const node of active) {
    const op = node.opType ?? "";
    const dy = (node.output ?? []).map(total);
    if (dy.every((d) => d === null)) continue;
    const rule = GradientRules[op];
    if (!rule) throw new Error(`autodiff: no gradient rule for op ${op} (node "${node.name}")`);
    const inputs = node.input ?? [];
    const context: GradientContext = {
      node,
      inputs,
      outputs: node.output ?? [],
      dy,
      e,
      options: ruleOptions,
      needs: (k) => inputs[k] !== undefined && inputs[k] !== "" && requires.has(inputs[k]) && needed.has(inputs[k]),
    };
    const grads = rule(context);
    inputs.forEach((input, k) => {
      if (!context.needs(k)) return;
      const grad = grads[k];
      // A float input the loss depends on but the rule does not differentiate (Clip's bounds, Pad's value): say so
      // rather than return a silently partial gradient.
      if (!grad) throw new Error(`autodiff: ${op} "${node.name}" has no gradient for its input ${k} ("${input}")`);
      const list = contributions.get(input) ?? [];
      list.push(grad);
      contributions.set(input, list);
    });
  }
  const gradients = new Map<string, string>();
  for (const w of wrt) gradients.set(w, total(w) ?? e.zerosLike(w));
  return { gradients, shapes };
}

/** Options of {@link BuildGradientModel}. */
export interface GradientModelOptions extends AddGradientsOptions {
  /** The tensor whose sum is differentiated. */
  readonly loss: string;
  /** Tensors to differentiate with respect to. */
  readonly wrt: readonly string[];
  /** Output name of each gradient; default `<name>_grad`. */
  readonly gradientName?: (name: string) => string;
  /** Also output the loss under this name (when it is not already an output). */
  readonly lossOutput?: string;
}

/**
 * ONNX model in, ONNX gradient model out: the forward graph with its outputs kept, plus one output per gradient,
 * pruned to what the outputs need. Accepts and returns serialisable `ModelProto`s (opset 17).
 */
export function BuildGradientModel(model: ModelProto, options: GradientModelOptions): ModelProto {
  const graph = model.graph;
  if (!graph) throw new Error("autodiff: the model has no graph");
  const g = OnnxGraphBuilder.FromGraph(graph);
  const { gradients, shapes } = AddGradients(g, options.loss, options.wrt, options);
  const nameOf = options.gradientName ?? ((n: string) => `${n}_grad`);
  const declaredDims = (name: string): OnnxDim[] => {
    const input = (graph.input ?? []).find((i) => i.name === name);
    if (input) return (input.type?.tensorType?.shape?.dim ?? []).map((d, k) => (d.dimParam ? d.dimParam : d.dimValue ? Number(d.dimValue) : `d${k}`));
    return shapes.get(name)!.dims.map((d, k) => d ?? `${name}_d${k}`);
  };
  if (options.lossOutput && !(graph.output ?? []).some((o) => o.name === options.loss)) {
    g.addOutput(options.loss, options.lossOutput, "float", declaredDims(options.loss));
  }
  for (const w of options.wrt) g.addOutput(gradients.get(w)!, nameOf(w), "float", declaredDims(w));
  const built = g.build({ name: graph.name ?? "gradient", producerName: model.producerName ?? "npc-faces", producerVersion: model.producerVersion ?? "" });
  return PruneUnusedNodes(onnx.ModelProto.create({ ...built, metadataProps: model.metadataProps ?? [] }));
}
