/**
 * Training on onnxruntime (issue 14): StyleGAN2-ADA's training phases as ONNX gradient graphs. See docs/training.md.
 */
export { DiscriminatorGraph, GeneratorGraph, GraphParameters } from "./networkGraphs.js";
export type { LatentInputs } from "./networkGraphs.js";
export { AugmentTaps, BuildDiscriminatorMainGraph, BuildGeneratorMainGraph, BuildPathLengthGraph, BuildR1Graph } from "./trainingGraphs.js";
export type { PhaseGraph, PhaseGraphOptions } from "./trainingGraphs.js";
export { LoadOnnxRuntimeNodeAsync, OrtDevices, PhaseSession } from "./ortSessions.js";
export type { OrtDevice, OrtEngineSettings } from "./ortSessions.js";
export { OrtTrainingRun } from "./ortTrainingRun.js";
export { AddAugmentFeeds, AddFakeFeeds, AddParameterFeeds, AddRealFeeds, AddStoredParameterFeeds } from "./phaseFeeds.js";
export type { Feed, Feeds } from "./phaseFeeds.js";
export { FromOnnxLayout, HwioToOihw, OihwToHwio, OnnxParameterShape, ToOnnxLayout } from "./parameterLayout.js";
