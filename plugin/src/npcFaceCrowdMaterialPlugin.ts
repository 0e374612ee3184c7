/**
 * Re-exports the pure implementation and registers the class (so material parsing recreates it).
 * Import `npcFaceCrowdMaterialPlugin.pure.js` for side-effect-free usage.
 */
export * from "./npcFaceCrowdMaterialPlugin.pure.js";
import { RegisterNpcFaceCrowdMaterialPlugin } from "./npcFaceCrowdMaterialPlugin.pure.js";
RegisterNpcFaceCrowdMaterialPlugin();
