/**
 * `@npc-faces/babylon`: procedural NPC faces for Babylon.js. See README.md for the ten-line integration.
 */
export * from "./npcFaceSystem.js";
export * from "./npcFaceMaterialPlugin.js";
export * from "./npcFaceModelAssetTask.js";
export * from "./npcFaceErrorEvent.js";
export * from "./npcFaceShaders.js";
export * from "./faceWorkerClient.js";
export * from "./faceTransport.js";
export * from "./workerFaceTransport.js";
export * from "./inThreadFaceTransport.js";
export * from "./worker/faceWorkerProtocol.js";
export * from "./worker/faceWorkerService.js";
export * from "./applyManifestEntry.js";
export * from "./npcFaceAtlas.js";
