/**
 * Generic reverse-mode differentiation of ONNX graphs (first and higher order). See docs/autodiff.md.
 */
export { AddGradients, BuildGradientModel, DefaultGradientRuleOptions } from "./buildGradients.js";
export type { AddGradientsOptions, GradientModelOptions, GradientResult } from "./buildGradients.js";
export { GradientRules, NonDifferentiableOps } from "./gradientRules.js";
export type { ConvInputGradient, ConvWeightGradient, GradientContext, GradientRule, GradientRuleOptions } from "./gradientRules.js";
export { PruneUnusedNodes } from "./pruneGraph.js";
export { GradientEmitter } from "./gradientEmitter.js";
export { InferShapes } from "./graphShapes.js";
export type { Dim, TensorInfo } from "./graphShapes.js";
