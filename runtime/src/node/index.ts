/** `@npc-faces/runtime/node`: the onnxruntime-node adapter and file loading (Node only), the bundled default model included. */
export * from "./nodeBackend.js";
export * from "./loadFaceGeneratorFile.js";
export * from "./loadDefaultFaceGenerator.js";
