export * from "./networks/architecture.js";
export * from "./export/onnxGraphBuilder.js";
export * from "./export/exportGeneratorOnnx.js";
export * from "./export/sefaDirections.js";
