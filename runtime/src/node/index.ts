/** `@npc-faces/runtime/node`: the onnxruntime-node adapter and file loading (Node only). */
export * from "./nodeBackend.js";
export * from "./loadFaceGeneratorFile.js";
