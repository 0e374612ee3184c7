/**
 * `@npc-faces/babylon/pure`: everything of the package without side effects. Nothing is registered with Babylon:
 * call `RegisterNpcFaceMaterialPlugin()` before loading `.babylon` files or parsing materials that carry the plugin.
 */
export * from "./npcFaceSystem.js";
export * from "./npcFaceParameters.js";
export * from "./npcFaceCompositionPluginBase.js";
export * from "./npcFaceMaterialPlugin.pure.js";
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
export * from "./npcFaceCrowd.js";
export * from "./npcFaceCrowdMember.js";
export * from "./npcFaceCrowdMaterialPlugin.pure.js";
export * from "./npcFaceCrowdShaders.js";
export * from "./npcHead.js";
