/**
 * ADA as the training loop plugs it in: the image pipeline ({@link AugmentPipe}) at the probability kept by
 * an {@link AdaController}. Matches the loop's `TrainingAugmentation` seam (../training/trainingLoop.ts):
 * `augment(images, seed)` with a fresh uint32 per call from the loop's own checkpointed random stream,
 * `update(realSignSum, batch)` after every discriminator step, and `toJSON()` for checkpoints.
 */
import type { tf } from "../backends/tfjsBackend.js";
import { AdaController, type AdaControllerOptions, type AdaControllerState } from "./adaController.js";
import { AugmentPipe, type AugmentParams, type AugmentPresetName, type AugmentSpec } from "./augmentPipe.js";
import { AugmentRandom } from "./augmentRandom.js";

/** JSON-safe state of an {@link AdaAugmentation}. */
export interface AdaAugmentationState {
  readonly spec: AugmentSpec;
  readonly controller: AdaControllerState;
}

/** Adaptive augmentation: pipeline + controller. */
export class AdaAugmentation {
  constructor(
    readonly pipe: AugmentPipe = new AugmentPipe("bgc"),
    readonly controller: AdaController = new AdaController(),
  ) {}

  /** A pipeline preset (default "bgc") with a controller made from `options`. */
  static Create(preset: AugmentPresetName | Partial<AugmentSpec> = "bgc", options: AdaControllerOptions = {}): AdaAugmentation {
    return new AdaAugmentation(new AugmentPipe(preset), new AdaController(options));
  }

  /** Current augmentation probability. */
  get p(): number {
    return this.controller.p;
  }

  /** Augments a batch [N, H, W, 3] in [-1, 1] with the draws of `seed` (image k uses counter k). Differentiable. */
  augment(images: tf.Tensor4D, seed: number): tf.Tensor4D {
    return this.pipe.augment(images, this.controller.p, new AugmentRandom(seed >>> 0));
  }

  /** The parameters {@link augment} applies to `batch` images of `size`² pixels with the draws of `seed`. */
  sampleParams(batch: number, size: number, seed: number): AugmentParams {
    return this.pipe.sampleParams(batch, size, size, this.controller.p, new AugmentRandom(seed >>> 0));
  }

  /** Feeds the sum of sign(D(real)) of one minibatch of `batch` images. */
  update(realSignSum: number, batch: number): void {
    this.controller.update(realSignSum, batch);
  }

  /** Progress text, e.g. `ada p=0.132 rt=0.64`. */
  describe(): string {
    return this.controller.describe();
  }

  /** State for checkpoints. */
  toJSON(): AdaAugmentationState {
    return { spec: this.pipe.spec, controller: this.controller.toJSON() };
  }

  /**
   * Restores a state written by {@link AdaAugmentation.toJSON}; with `target`, its controller holds that r_t from
   * here on (p and the partial sums carry over: a resumed run given another `--ada-target`).
   */
  static fromJSON(state: AdaAugmentationState, target?: number): AdaAugmentation {
    const controller = target === undefined ? state.controller : { ...state.controller, target };
    return new AdaAugmentation(new AugmentPipe(state.spec), AdaController.fromJSON(controller));
  }
}
