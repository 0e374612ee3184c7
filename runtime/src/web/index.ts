/** `@npc-faces/runtime/web`: the onnxruntime-web adapter (browsers, Web Workers; its WASM backend also runs in Node). */
export * from "./webBackend.js";
/** URL of the bundled default model (`@npc-faces/default-model`): `await (await fetch(DefaultModelUrl)).arrayBuffer()`. */
export { DefaultModelUrl } from "@npc-faces/default-model";
