/**
 * Re-exports the pure implementation and registers the class (so `.babylon` files and material parsing recreate it).
 * Import `npcFaceMaterialPlugin.pure.js` for side-effect-free usage.
 */
export * from "./npcFaceMaterialPlugin.pure.js";
import { RegisterNpcFaceMaterialPlugin } from "./npcFaceMaterialPlugin.pure.js";
RegisterNpcFaceMaterialPlugin();
