/**
 * The four phases of a StyleGAN2-ADA training step as ONNX gradient graphs (../training/trainingLoop.ts has the
 * same phases in tfjs; ../training/losses.ts the same losses):
 *
 *   Gmain  mean softplus(-D(aug(G(z))))                      -> d/dG
 *   Greg   path length: mean (|J_w^T y| - plMean')^2 x weight  -> d/dG (second order through G)
 *   Dmain  mean softplus(D(aug(G(z)))) + mean softplus(-D(aug(x))) -> d/dD, and D(real) (for ADA)
 *          (conditional runs with a label loss: Gmain + λ·BCE(labels(aug(G(z,c))), c), Dmain + λ·BCE(labels(aug(x)), c_x))
 * Gmain, Greg and Dmain also output the batch mean of their mapping's w (`w_mean`, for w_avg).
 *   Dreg   R1: mean |d sum D(aug(x)) / dx|^2 x gamma/2 x interval -> d/dD (second order through D)
 *
 * Each is one graph: forward, backward (../onnxAutodiff) and, for the regularisers, the backward of a backward.
 * Batch sizes are fixed per graph (shapes are static, so every rule bakes its sizes in); augmentation is a variant
 * with the warp's sparse matrix and the colour matrices as inputs (drawn in JS as the tfjs engine draws them).
 */
import type { onnx as OnnxTypes } from "onnx-proto";
import { type GeneratorConfig } from "../networks/architecture.js";
import { OnnxDataType, OnnxGraphBuilder } from "../export/onnxGraphBuilder.js";
import { AddGradients, type AddGradientsOptions } from "../onnxAutodiff/buildGradients.js";
import { PruneUnusedNodes } from "../onnxAutodiff/pruneGraph.js";
import type { DiscriminatorSpecOptions } from "../networks/discriminatorArchitecture.js";
import { PathLengthDecay } from "../training/trainingOptions.js";
import { DiscriminatorGraph, GeneratorGraph } from "./networkGraphs.js";

type ModelProto = OnnxTypes.ModelProto;

/** Taps per output pixel of the augmentation's bilinear warp (../augment/affineResample.ts). */
export const AugmentTaps = 4;

/** A phase graph and the names a step feeds and reads. */
export interface PhaseGraph {
  readonly model: ModelProto;
  /** Output name of the scalar loss (as the optimiser's step sees it: scaled for lazy regularisation). */
  readonly loss: string;
  /** Gradient output name per trainable parameter, in spec order. */
  readonly gradients: ReadonlyMap<string, string>;
}

/** What every phase graph is built with. */
export interface PhaseGraphOptions {
  readonly config: GeneratorConfig;
  /** Images per run of the graph. */
  readonly batch: number;
  /** Autodiff rule options (the conv weight-gradient form). */
  readonly autodiff?: AddGradientsOptions;
  /** The discriminator's architecture options (not progressive). */
  readonly discriminator?: DiscriminatorSpecOptions;
  /** Weight of the label loss in Gmain and Dmain (needs `discriminator.labelHead`); 0 or absent = off. */
  readonly labelLoss?: number;
}

const Producer = { producerName: "npc-faces", producerVersion: "0.1.0" };

/**
 * ADA's augmentation of images [n, 3, R, R] with fed parameters: the bilinear warp as a sparse matrix (`<prefix>aug_indices`
 * int32 [n·R·R·4] into the batch's pixels as the warp builds them, cast to int64 in the graph rather than by a
 * BigInt per element in JS; `<prefix>aug_weights` [n·R·R, 1, 4]), then rgb' = rgb · C + o
 * (`<prefix>aug_colour` [n, 3, 3], already transposed; `<prefix>aug_offset` [n, 1, 3]).
 */
function Augment(g: OnnxGraphBuilder, images: string, n: number, R: number, prefix: string): string {
  const rows = n * R * R;
  const indices = g.node("Cast", [g.addInput(`${prefix}aug_indices`, "int32", [rows * AugmentTaps])], { to: { int: OnnxDataType.int64 } });
  const weights = g.addInput(`${prefix}aug_weights`, "float", [rows, 1, AugmentTaps]);
  const colour = g.addInput(`${prefix}aug_colour`, "float", [n, 3, 3]);
  const offset = g.addInput(`${prefix}aug_offset`, "float", [n, 1, 3]);
  const pixels = g.node("Reshape", [g.node("Transpose", [images], { perm: { ints: [0, 2, 3, 1] } }), g.constInt64([rows, 3])]);
  const taps = g.node("Reshape", [g.node("Gather", [pixels, indices], { axis: { int: 0 } }), g.constInt64([rows, AugmentTaps, 3])]);
  const warped = g.node("Reshape", [g.node("MatMul", [weights, taps]), g.constInt64([n, R * R, 3])]);
  const coloured = g.node("Add", [g.node("MatMul", [warped, colour]), offset]);
  return g.node("Transpose", [g.node("Reshape", [coloured, g.constInt64([n, R, R, 3])])], { perm: { ints: [0, 3, 1, 2] } });
}

/** Real images are fed NHWC in [-1, 1] (the data set's layout), as `real` [n, R, R, 3]; returns them NCHW. */
function RealImages(g: OnnxGraphBuilder, n: number, R: number): { input: string; nchw: string } {
  const input = g.addInput("real", "float", [n, R, R, 3]);
  return { input, nchw: g.node("Transpose", [input], { perm: { ints: [0, 3, 1, 2] } }) };
}

function MeanSoftplus(g: OnnxGraphBuilder, x: string): string {
  return g.node("ReduceMean", [g.node("Softplus", [x])], { keepdims: { int: 0 } });
}

/** `loss` + weight × {@link AddLabelLoss} (none when the weight is 0 or absent). */
function WithLabelLoss(g: OnnxGraphBuilder, loss: string, logits: string | undefined, labels: string | undefined, weight: number | undefined): string {
  if (!weight) return loss;
  if (!logits || !labels) throw new Error("training graph: the label loss needs a conditional run and the discriminator's label head");
  return g.node("Add", [loss, g.node("Mul", [AddLabelLoss(g, logits, labels), g.constFloat([weight], [])])]);
}

/**
 * The label loss of logits and labels [n, labelDim]: the logistic loss of each column's logit against the label
 * value (softplus(l) − y·l, one class against the rest, soft targets allowed), summed over columns, batch mean.
 * (A softmax cross-entropy per categorical attribute, AC-GAN's own form, was measured against it: no gain,
 * docs/training.md "Label loss".)
 */
export function AddLabelLoss(g: OnnxGraphBuilder, logits: string, labels: string): string {
  const perColumn = g.node("Sub", [g.node("Softplus", [logits]), g.node("Mul", [labels, logits])]);
  const perImage = g.node("ReduceSum", [perColumn, g.constInt64([1])], { keepdims: { int: 0 } });
  return g.node("ReduceMean", [perImage], { keepdims: { int: 0 } });
}

/** Outputs `w_mean` [wDim]: the batch mean of the mapping's w, which the step folds into w_avg. */
function AddWMeanOutput(g: OnnxGraphBuilder, w: string, config: GeneratorConfig): void {
  g.addOutput(g.node("ReduceMean", [w], { axes: { ints: [0] }, keepdims: { int: 0 } }), "w_mean", "float", [config.wDim]);
}

function Finish(g: OnnxGraphBuilder, name: string, loss: string, wrt: readonly string[], options: PhaseGraphOptions): PhaseGraph {
  const result = AddGradients(g, loss, wrt, options.autodiff);
  g.addOutput(loss, "loss", "float", []);
  const gradients = new Map<string, string>();
  for (const param of wrt) {
    const shape = result.shapes.get(param)!.dims as number[];
    gradients.set(param, g.addOutput(result.gradients.get(param)!, `${param}.grad`, "float", shape));
  }
  return { model: PruneUnusedNodes(g.build({ name, ...Producer })), loss: "loss", gradients };
}

/** Gmain: inputs G and D parameters, latents, noise (and the fakes' augmentation); outputs loss, d/dG, `w_mean` [wDim]. */
export function BuildGeneratorMainGraph(options: PhaseGraphOptions & { readonly augment: boolean }): PhaseGraph {
  const { config, batch: n } = options;
  const g = new OnnxGraphBuilder();
  const G = new GeneratorGraph(g, config);
  const D = new DiscriminatorGraph(g, config, options.discriminator);
  const latents = G.addLatentInputs(n);
  const { ws, w } = G.ws(latents, n);
  let images = G.synthesis(ws, G.addNoiseInputs(n), n);
  if (options.augment) images = Augment(g, images, n, config.resolution, "");
  const fake = D.scoresAndLabels(images, n, latents.label);
  const loss = WithLabelLoss(g, MeanSoftplus(g, g.node("Neg", [fake.scores])), fake.labels, latents.label, options.labelLoss);
  AddWMeanOutput(g, w, config);
  return Finish(g, "Gmain", loss, G.params.trainable, options);
}

/**
 * Greg (path length): inputs G parameters, latents, noise, `pl_noise` [n, R, R, 3] (already / R, NHWC as the tfjs
 * engine draws it), `pl_mean` []; outputs loss = mean((length - pl_mean')^2) x `weight` with the moved target
 * pl_mean' = pl_mean + PathLengthDecay x (mean length - pl_mean), `mean_length`, `w_mean`, d/dG.
 */
export function BuildPathLengthGraph(options: PhaseGraphOptions & { readonly weight: number }): PhaseGraph {
  const { config, batch: n } = options;
  const g = new OnnxGraphBuilder();
  const G = new GeneratorGraph(g, config);
  const latents = G.addLatentInputs(n);
  const { ws, w } = G.ws(latents, n);
  const images = G.synthesis(ws, G.addNoiseInputs(n), n);
  const plNoise = g.addInput("pl_noise", "float", [n, config.resolution, config.resolution, 3]);
  const plMean = g.addInput("pl_mean", "float", []);
  const projected = g.node("ReduceSum", [g.node("Mul", [g.node("Transpose", [images], { perm: { ints: [0, 2, 3, 1] } }), plNoise])], { keepdims: { int: 0 } });
  const jacobian = AddGradients(g, projected, [ws], options.autodiff).gradients.get(ws)!;
  const perLayer = g.node("ReduceSum", [g.node("Mul", [jacobian, jacobian]), g.constInt64([2])], { keepdims: { int: 0 } });
  const lengths = g.node("Sqrt", [g.node("ReduceMean", [perLayer], { axes: { ints: [1] }, keepdims: { int: 0 } })]);
  const meanLength = g.node("ReduceMean", [lengths], { keepdims: { int: 0 } });
  const target = g.node("Add", [plMean, g.node("Mul", [g.node("Sub", [meanLength, plMean]), g.constFloat([PathLengthDecay], [])])]);
  const deviation = g.node("Sub", [lengths, target]);
  const penalty = g.node("ReduceMean", [g.node("Mul", [deviation, deviation])], { keepdims: { int: 0 } });
  g.addOutput(meanLength, "mean_length", "float", []);
  AddWMeanOutput(g, w, config);
  return Finish(g, "Greg", g.node("Mul", [penalty, g.constFloat([options.weight], [])]), G.params.trainable, options);
}

/**
 * Dmain: inputs G and D parameters, latents and noise of the fakes, `real` [n, R, R, 3], `real_label` (conditional),
 * and the augmentation of fakes (`fake_aug_*`) and reals (`real_aug_*`); outputs loss, `real_scores` [n, 1], `w_mean`, d/dD.
 */
export function BuildDiscriminatorMainGraph(options: PhaseGraphOptions & { readonly augment: boolean }): PhaseGraph {
  const { config, batch: n } = options;
  const R = config.resolution;
  const g = new OnnxGraphBuilder();
  const G = new GeneratorGraph(g, config);
  const D = new DiscriminatorGraph(g, config, options.discriminator);
  const latents = G.addLatentInputs(n);
  const { ws, w } = G.ws(latents, n);
  let fake = G.synthesis(ws, G.addNoiseInputs(n), n);
  AddWMeanOutput(g, w, config);
  let real = RealImages(g, n, R).nchw;
  const realLabel = config.labelDim > 0 ? g.addInput("real_label", "float", [n, config.labelDim]) : undefined;
  if (options.augment) {
    fake = Augment(g, fake, n, R, "fake_");
    real = Augment(g, real, n, R, "real_");
  }
  // One D pass over fakes and reals together (two minibatch-std batches).
  const labels = realLabel && latents.label ? g.node("Concat", [latents.label, realLabel], { axis: { int: 0 } }) : undefined;
  const both = D.scoresAndLabels(g.node("Concat", [fake, real], { axis: { int: 0 } }), n, labels, 2);
  const half = (x: string, k: number) => g.node("Slice", [x, g.constInt64([k * n]), g.constInt64([(k + 1) * n]), g.constInt64([0])]);
  const fakeScores = half(both.scores, 0);
  const realScores = half(both.scores, 1);
  g.addOutput(realScores, "real_scores", "float", [n, 1]);
  // The label head learns from the reals only (what the data says each face is); the fakes train G through it.
  const ganLoss = g.node("Add", [MeanSoftplus(g, fakeScores), MeanSoftplus(g, g.node("Neg", [realScores]))]);
  const loss = WithLabelLoss(g, ganLoss, both.labels && half(both.labels, 1), realLabel, options.labelLoss);
  return Finish(g, "Dmain", loss, D.params.trainable, options);
}

/**
 * Dreg (R1): inputs D parameters, `real` [n, R, R, 3], `real_label` (conditional), the reals' augmentation
 * (`real_aug_*`); outputs loss = R1 x `weight`, `r1` (the unweighted penalty), d/dD.
 */
export function BuildR1Graph(options: PhaseGraphOptions & { readonly augment: boolean; readonly weight: number }): PhaseGraph {
  const { config, batch: n } = options;
  const R = config.resolution;
  const g = new OnnxGraphBuilder();
  const D = new DiscriminatorGraph(g, config, options.discriminator);
  const real = RealImages(g, n, R);
  const realLabel = config.labelDim > 0 ? g.addInput("real_label", "float", [n, config.labelDim]) : undefined;
  const images = options.augment ? Augment(g, real.nchw, n, R, "real_") : real.nchw;
  const total = g.node("ReduceSum", [D.scores(images, n, realLabel)], { keepdims: { int: 0 } });
  const dx = AddGradients(g, total, [real.input], options.autodiff).gradients.get(real.input)!;
  const perImage = g.node("ReduceSum", [g.node("Mul", [dx, dx]), g.constInt64([1, 2, 3])], { keepdims: { int: 0 } });
  const penalty = g.node("ReduceMean", [perImage], { keepdims: { int: 0 } });
  g.addOutput(penalty, "r1", "float", []);
  return Finish(g, "Dreg", g.node("Mul", [penalty, g.constFloat([options.weight], [])]), D.params.trainable, options);
}
