/** This file must only contain pure code and pure imports */
import type { FaceRequest } from "@npc-faces/runtime";

/** Prefix of the per-control entries of the serialised parameters and of the material plugin's properties (`control_<name>`). */
export const NpcFaceControlPrefix = "control_";

/** The style parameters of a face, as serialised (`serialize()` / `parse()`). */
export interface NpcFacePluginParameters {
  seed: number;
  mixSeed: number;
  mix: number;
  mixCrossover: number;
  /** Absent: the model's default. */
  psi?: number;
  /** Absent: the model's default. */
  noiseStrength?: number;
  /** Conditional models: attribute -> value. */
  labels?: Record<string, string>;
  /** Plus one `control_<name>` entry per control set explicitly. */
  [control: `control_${string}`]: number;
}

/**
 * The parameters of one face (seed, style mixing, psi, noise, the model's controls and labels), the request they
 * describe and their serialised form. What is not set stays undefined, the model's default, so that requests and files
 * carry only what was chosen. A crowd member is one (`NpcFaceCrowdMember` extends it); the material plugin, already a
 * MaterialPluginBase, holds one and shows the model's defaults through its own accessors. Both therefore send the same
 * request, and write the same JSON, for the same parameters.
 */
export class NpcFaceParameters {
  private _seed = 0;
  private _mixSeed = 0;
  private _mix = 0;
  private _mixCrossover = 0;
  private _psi: number | undefined;
  private _noiseStrength: number | undefined;
  private readonly _controls = new Map<string, number>();
  private readonly _labels = new Map<string, string>();

  /** @param _onChanged called after each change (a value set again is none): the owner regenerates the face */
  constructor(private readonly _onChanged: () => void) {}

  /** The face's identity: an integer in 0..4294967295 (others fail the face with BAD_REQUEST). */
  get seed(): number {
    return this._seed;
  }
  set seed(value: number) {
    if (this._seed === value) return;
    this._seed = value;
    this._onChanged();
  }

  /** The face to breed with (style mixing); only used when {@link mix} > 0. */
  get mixSeed(): number {
    return this._mixSeed;
  }
  set mixSeed(value: number) {
    if (this._mixSeed === value) return;
    this._mixSeed = value;
    this._onChanged();
  }

  /** How much of the mix face the mixed layers take, 0..1 (default 0: no mixing). */
  get mix(): number {
    return this._mix;
  }
  set mix(value: number) {
    if (this._mix === value) return;
    this._mix = value;
    this._onChanged();
  }

  /** First style layer that takes the mix face (0 = all; higher keeps the coarse features of {@link seed}). */
  get mixCrossover(): number {
    return this._mixCrossover;
  }
  set mixCrossover(value: number) {
    if (this._mixCrossover === value) return;
    this._mixCrossover = value;
    this._onChanged();
  }

  /** Truncation: 1 = as sampled, 0 = the average face (undefined: the model's default). */
  get psi(): number | undefined {
    return this._psi;
  }
  set psi(value: number | undefined) {
    if (this._psi === value) return;
    this._psi = value;
    this._onChanged();
  }

  /** Multiplier of the per-layer noise, 0 = smooth (undefined: the model's default). */
  get noiseStrength(): number | undefined {
    return this._noiseStrength;
  }
  set noiseStrength(value: number | undefined) {
    if (this._noiseStrength === value) return;
    this._noiseStrength = value;
    this._onChanged();
  }

  /** The amount of a named control (undefined: the model's default). */
  getControl(name: string): number | undefined {
    return this._controls.get(name);
  }

  /** Sets (or with `undefined` clears) a named control. Unknown names fail the face with BAD_REQUEST once the model is known. */
  setControl(name: string, value: number | undefined): void {
    if (this._controls.get(name) === value) return;
    if (value === undefined) this._controls.delete(name);
    else this._controls.set(name, value);
    this._onChanged();
  }

  /** Controls set explicitly (name -> amount). */
  get controls(): Readonly<Record<string, number>> {
    return Object.fromEntries(this._controls);
  }

  /** Conditional models: the value of a label attribute, or undefined for the model's default mix. */
  getLabel(attribute: string): string | undefined {
    return this._labels.get(attribute);
  }

  /** Conditional models: sets (or with `undefined` clears) a label attribute's value. */
  setLabel(attribute: string, value: string | undefined): void {
    if (this._labels.get(attribute) === value) return;
    if (value === undefined) this._labels.delete(attribute);
    else this._labels.set(attribute, value);
    this._onChanged();
  }

  /** The face request the current parameters describe (the mix fields only when {@link mix} > 0). */
  get request(): FaceRequest {
    const request: { -readonly [K in keyof FaceRequest]: FaceRequest[K] } = { seed: this._seed };
    if (this._mix !== 0) {
      request.mixSeed = this._mixSeed;
      request.mix = this._mix;
      request.mixCrossover = this._mixCrossover;
    }
    if (this._psi !== undefined) request.psi = this._psi;
    if (this._noiseStrength !== undefined) request.noiseStrength = this._noiseStrength;
    if (this._controls.size > 0) request.controls = Object.fromEntries(this._controls);
    if (this._labels.size > 0) request.labels = Object.fromEntries(this._labels);
    return request;
  }

  /**
   * Sets what {@link serialize} wrote, e.g. read from a file: absent or ill-typed fields keep their value,
   * `control_<name>` entries set controls.
   */
  set(parameters: Partial<NpcFacePluginParameters>): this {
    if (typeof parameters.seed === "number") this.seed = parameters.seed;
    if (typeof parameters.mixSeed === "number") this.mixSeed = parameters.mixSeed;
    if (typeof parameters.mix === "number") this.mix = parameters.mix;
    if (typeof parameters.mixCrossover === "number") this.mixCrossover = parameters.mixCrossover;
    if (typeof parameters.psi === "number") this.psi = parameters.psi;
    if (typeof parameters.noiseStrength === "number") this.noiseStrength = parameters.noiseStrength;
    for (const [key, value] of Object.entries(parameters)) {
      if (key.startsWith(NpcFaceControlPrefix) && typeof value === "number") this.setControl(key.slice(NpcFaceControlPrefix.length), value);
    }
    if (parameters.labels && typeof parameters.labels === "object") {
      for (const [attribute, value] of Object.entries(parameters.labels)) if (typeof value === "string") this.setLabel(attribute, value);
    }
    return this;
  }

  /**
   * The parameters as serialised: seed and mixing always, the others only when set. Always a whole
   * {@link NpcFacePluginParameters}; typed partial so that a crowd member's `serialize()` can return its own type.
   */
  serialize(): Partial<NpcFacePluginParameters> {
    const parameters: NpcFacePluginParameters = { seed: this._seed, mixSeed: this._mixSeed, mix: this._mix, mixCrossover: this._mixCrossover };
    if (this._psi !== undefined) parameters.psi = this._psi;
    if (this._noiseStrength !== undefined) parameters.noiseStrength = this._noiseStrength;
    if (this._labels.size > 0) parameters.labels = Object.fromEntries(this._labels);
    for (const [name, value] of this._controls) parameters[`${NpcFaceControlPrefix}${name}`] = value;
    return parameters;
  }
}
