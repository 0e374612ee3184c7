/**
 * The bundled default model (`@npc-faces/default-model`, `default.onnx`) on onnxruntime-node: what loads when no
 * model is given.
 */
import { fileURLToPath } from "node:url";
import { DefaultModelUrl } from "@npc-faces/default-model";
import type { FaceGenerator } from "../faceGenerator.js";
import { LoadFaceGeneratorFileAsync, type LoadFaceGeneratorFileOptions } from "./loadFaceGeneratorFile.js";

export { DefaultModelUrl };

/**
 * Path of the bundled default model file. (The same as `@npc-faces/default-model`'s own `DefaultModelPath()`,
 * through `node:url`, so it also works on Node versions without `process.getBuiltinModule`.)
 */
export function DefaultModelPath(): string {
  return fileURLToPath(DefaultModelUrl);
}

/**
 * Loads the bundled default model: {@link LoadFaceGeneratorFileAsync} on {@link DefaultModelPath}.
 * ```ts
 * const faces = await LoadDefaultFaceGeneratorAsync();
 * const [face] = await faces.generateAsync([{ seed: 42 }]);
 * ```
 * @throws NpcFacesError as {@link LoadFaceGeneratorFileAsync} (NOT_A_FILE names the path when the package's file is missing)
 */
export function LoadDefaultFaceGeneratorAsync(options: LoadFaceGeneratorFileOptions = {}): Promise<FaceGenerator> {
  return LoadFaceGeneratorFileAsync(DefaultModelPath(), options);
}
