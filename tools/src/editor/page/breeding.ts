/**
 * Breeding (style mixing): the face being edited (parent A) with a partner (parent B, Shift+click in the grid or a
 * seed typed here). The child takes B's styles from a crossover layer up (low layers: pose and face shape stay A's;
 * high layers: colours and texture) blended by a mix amount; the child is the face in the detail view.
 */
import type { ModelMetadata } from "@npc-faces/runtime";
import type { FaceWorkerClient } from "@npc-faces/babylon";
import type { FaceParams } from "./editorApp.js";
import { FaceView } from "./faceCanvas.js";

/** What the breeding panel asks the editor to do. */
export interface BreedingEvents {
  breed(partnerSeed: number, crossover: number, mix: number): void;
  stop(): void;
  error(message: string): void;
}

/** The breeding panel: parents, partner seed, crossover layer and mix amount. */
export class Breeding {
  private readonly parentA: FaceView;
  private readonly parentB: FaceView;
  private readonly partnerInput: HTMLInputElement;
  private readonly crossover: HTMLInputElement;
  private readonly crossoverOut: HTMLOutputElement;
  private readonly mix: HTMLInputElement;
  private readonly mixOut: HTMLOutputElement;
  private readonly status: HTMLElement;

  constructor(container: HTMLElement, client: FaceWorkerClient, metadata: ModelMetadata, private readonly events: BreedingEvents) {
    const title = document.createElement("h2");
    title.textContent = "breeding";
    const parents = document.createElement("div");
    parents.className = "parents";
    const canvasA = document.createElement("canvas");
    const canvasB = document.createElement("canvas");
    canvasA.id = "parentA";
    canvasB.id = "parentB";
    parents.append(Labelled("A (this face)", canvasA), Labelled("B (partner)", canvasB));
    this.parentA = new FaceView(canvasA, client, events.error);
    this.parentB = new FaceView(canvasB, client, events.error);

    this.partnerInput = document.createElement("input");
    Object.assign(this.partnerInput, { type: "number", min: "0", max: "4294967295", step: "1", id: "partnerSeed", placeholder: "Shift+click a face" });
    this.crossover = Range("crossover", 0, metadata.numWs, 1);
    this.crossoverOut = document.createElement("output");
    this.mix = Range("mix", 0, 1, 0.01);
    this.mixOut = document.createElement("output");
    this.crossover.value = String(Math.floor(metadata.numWs / 2));
    this.mix.value = "1";
    const apply = (): void => {
      const partner = Number(this.partnerInput.value);
      if (this.partnerInput.value === "" || !Number.isInteger(partner) || partner < 0 || partner > 0xffffffff) {
        this.status.textContent = "pick a partner: Shift+click a face in the grid, or type its seed";
        return;
      }
      this.events.breed(partner, Number(this.crossover.value), Number(this.mix.value));
    };
    const breedButton = Button("breed", "breedButton", apply);
    const stopButton = Button("stop breeding", "stopBreeding", () => this.events.stop());
    // Moving a slider while breeding updates the child at once.
    for (const input of [this.crossover, this.mix]) input.addEventListener("input", () => this.partnerInput.value !== "" && apply());
    this.partnerInput.addEventListener("change", apply);
    this.status = document.createElement("p");
    this.status.className = "hint";
    container.append(
      title,
      parents,
      Row("partner seed", this.partnerInput),
      Row("crossover layer", this.crossover, this.crossoverOut),
      Row("mix amount", this.mix, this.mixOut),
      Buttons(breedButton, stopButton),
      this.status,
    );
  }

  /** Sets the partner (e.g. from a Shift+click in the grid) and breeds. */
  pickPartner(seed: number): void {
    this.partnerInput.value = String(seed);
    this.events.breed(seed, Number(this.crossover.value), Number(this.mix.value));
  }

  /** The partner currently typed in. */
  get partner(): number | undefined {
    return this.partnerInput.value === "" ? undefined : Number(this.partnerInput.value);
  }

  /** Shows the parents of `params` and its breeding values. */
  update(params: FaceParams, numWs: number): void {
    this.parentA.show({ ...params, mixSeed: undefined, mix: undefined, mixCrossover: undefined });
    if (params.mixSeed !== undefined) {
      this.partnerInput.value = String(params.mixSeed);
      this.crossover.value = String(params.mixCrossover ?? 0);
      this.mix.value = String(params.mix ?? 1);
      this.status.textContent = `child of ${params.seed} and ${params.mixSeed}: B's styles from layer ${params.mixCrossover ?? 0} of ${numWs}, mixed ${(params.mix ?? 1).toFixed(2)}`;
    } else {
      this.status.textContent = "not breeding";
    }
    this.crossoverOut.textContent = this.crossover.value;
    this.mixOut.textContent = Number(this.mix.value).toFixed(2);
    const partner = this.partner;
    if (partner !== undefined && Number.isInteger(partner)) this.parentB.show({ seed: partner, psi: params.psi, noiseStrength: params.noiseStrength });
  }
}

function Range(param: string, min: number, max: number, step: number): HTMLInputElement {
  const input = document.createElement("input");
  Object.assign(input, { type: "range", min: String(min), max: String(max), step: String(step) });
  input.dataset.param = param;
  return input;
}

function Row(label: string, ...children: HTMLElement[]): HTMLElement {
  const row = document.createElement("label");
  row.className = "slider";
  const span = document.createElement("span");
  span.textContent = label;
  row.append(span, ...children);
  return row;
}

function Labelled(label: string, canvas: HTMLCanvasElement): HTMLElement {
  const figure = document.createElement("figure");
  const caption = document.createElement("figcaption");
  caption.textContent = label;
  figure.append(canvas, caption);
  return figure;
}

function Button(text: string, id: string, onClick: () => void): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = text;
  button.id = id;
  button.addEventListener("click", onClick);
  return button;
}

function Buttons(...buttons: HTMLElement[]): HTMLElement {
  const div = document.createElement("div");
  div.className = "buttons";
  div.append(...buttons);
  return div;
}
