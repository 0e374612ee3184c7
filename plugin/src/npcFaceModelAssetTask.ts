/**
 * An {@link AbstractAssetTask} for Babylon's `AssetsManager`: loads the npc-faces model and creates the scene's
 * {@link NpcFaceSystem}, so the model loads with the level's other assets and shows in the loading screen.
 */
import { AbstractAssetTask, type AssetsManager } from "@babylonjs/core/Misc/assetsManager.js";
import type { Scene } from "@babylonjs/core/scene.pure.js";
import { NpcFaceSystem, type NpcFaceSystemOptions } from "./npcFaceSystem.js";

/**
 * Loads a model into the scene's face system. Succeeds when the model is loaded; fails (task error, and the
 * system's `onErrorObservable`) when it is not: the system still exists then and shows fallback textures.
 * ```ts
 * const task = AddNpcFaceModelTask(assetsManager, "faces", "/models/faces.onnx", { workerUrl: "/faceWorker.js", wasmPaths: "/ort/" });
 * task.onSuccess = () => console.log(task.system!.metadata!.name);
 * ```
 */
export class NpcFaceModelAssetTask extends AbstractAssetTask {
  /** The scene's face system, once the task has run. */
  system: NpcFaceSystem | undefined;

  /**
   * @param name the task's name
   * @param url URL of the `.onnx` model (e.g. `DefaultModelUrl` of `@npc-faces/default-model`)
   * @param options the face system's other options (worker URL, wasm paths, execution provider, ...)
   */
  constructor(
    name: string,
    readonly url: string | URL,
    readonly options: Omit<NpcFaceSystemOptions, "modelUrl" | "modelBytes"> = {},
  ) {
    super(name);
  }

  /**
   * Runs the task (called by the AssetsManager). Retryable: after a failure, `task.reset()` and the manager's
   * `load()` run it again, replacing the failed system (its material plugins move to the new one).
   */
  override runTask(scene: Scene, onSuccess: () => void, onError: (message?: string, exception?: unknown) => void): void {
    const previous = this.system;
    if (previous && !previous.isDisposed && NpcFaceSystem.Get(scene) === previous) {
      if (previous.isModelLoaded) {
        onSuccess();
        return;
      }
      previous.dispose(); // a failed load, or one still running: this run replaces it
    }
    this.system = undefined;
    NpcFaceSystem.CreateAsync(scene, { ...this.options, modelUrl: this.url }).then(
      (system) => {
        this.system = system;
        if (system.loadError) onError(system.loadError.message, system.loadError);
        else onSuccess();
      },
      (error: unknown) => onError(error instanceof Error ? error.message : String(error), error),
    );
  }
}

/**
 * Adds an {@link NpcFaceModelAssetTask} to an AssetsManager, like its built-in `addXTask` methods.
 * @returns the task (its `system` is set once it has run)
 */
export function AddNpcFaceModelTask(assetsManager: AssetsManager, name: string, url: string | URL, options: Omit<NpcFaceSystemOptions, "modelUrl" | "modelBytes"> = {}): NpcFaceModelAssetTask {
  const task = new NpcFaceModelAssetTask(name, url, options);
  // AssetsManager has no public method for custom tasks; its addXTask methods push to this protected list.
  (assetsManager as unknown as { _tasks: AbstractAssetTask[] })._tasks.push(task);
  return task;
}
