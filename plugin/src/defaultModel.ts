/**
 * `@npc-faces/babylon/defaultModel`: opt-in to the bundled default model. Importing this module makes it the model
 * of every {@link NpcFaceSystem} created without `modelUrl` or `modelBytes`. It is a separate entry so that a game
 * with its own model never bundles the default one: the model's URL is a `new URL("./default.onnx",
 * import.meta.url)`, which Vite, webpack and Parcel turn into a copy of the 5 MB file wherever the module is in
 * the bundle.
 */
import { DefaultModelUrl } from "@npc-faces/default-model";
import { NpcFaceSystem } from "./npcFaceSystem.js";

export { DefaultModelUrl };

NpcFaceSystem.DefaultModelUrl = DefaultModelUrl;
