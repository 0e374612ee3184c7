/** `@npc-faces/runtime/web`: the onnxruntime-web adapter (browsers, Web Workers; its WASM backend also runs in Node). */
export * from "./webBackend.js";
