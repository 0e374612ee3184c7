export * from "./modelMetadata.js";
export * from "./seeds/index.js";
export * from "./npcFacesError.js";
export * from "./onnxModelReader.js";
export * from "./readModelMetadata.js";
export * from "./inferenceBackend.js";
export * from "./faceRequest.js";
export * from "./faceGenerator.js";
