/**
 * `@npc-faces/babylon`: procedural NPC faces for Babylon.js. See README.md for the ten-line integration.
 * This entry registers the material plugin class with Babylon (so `.babylon` files recreate it); the same API
 * without that side effect is `@npc-faces/babylon/pure`. The bundled default model is opt-in:
 * `@npc-faces/babylon/defaultModel`.
 */
export * from "./pure.js";
import "./npcFaceMaterialPlugin.js";
// Registered here rather than only by importing "./npcFaceCrowdMaterialPlugin.js": package.json's sideEffects lists
// this entry, so bundlers keep the call.
import { RegisterNpcFaceCrowdMaterialPlugin } from "./npcFaceCrowdMaterialPlugin.pure.js";
RegisterNpcFaceCrowdMaterialPlugin();
