/**
 * The detail view: the face being edited, large, with its seed, a choice per categorical label of a conditional
 * model (a value, or drawn by the seed, naming the value the seed draws), and one slider per parameter: truncation
 * (psi), noise strength and every named control of the model (ranges and defaults from the model's metadata). The
 * label controls of an attribute with many values (35 eye styles) fold into one closed group, so the sliders stay
 * usable.
 */
import { FaceLabelValues, type ModelControl, type ModelMetadata } from "@npc-faces/runtime";
import type { FaceWorkerClient } from "@npc-faces/babylon";
import { FoldedLabelAttribute, type FaceParamKey, type FaceParams } from "./editorApp.js";
import { FaceView } from "./faceCanvas.js";

/** What the detail view asks the editor to do. */
export interface FaceDetailEvents {
  setParam(key: FaceParamKey, value: number | undefined): void;
  setControl(name: string, value: number): void;
  setLabel(attribute: string, value: string | undefined): void;
  error(message: string): void;
}

interface Slider {
  readonly input: HTMLInputElement;
  readonly output: HTMLOutputElement;
  read(params: FaceParams): number;
}

/** The large face and its sliders. */
export class FaceDetail {
  readonly view: FaceView;
  private readonly seedInput: HTMLInputElement;
  private readonly title: HTMLElement;
  private readonly sliders: Slider[] = [];
  private readonly labelChoices: { readonly attribute: string; readonly select: HTMLSelectElement }[] = [];

  constructor(container: HTMLElement, client: FaceWorkerClient, private readonly metadata: ModelMetadata, events: FaceDetailEvents) {
    this.title = Element("h2", "face");
    const canvas = Element("canvas", "", "detailCanvas") as HTMLCanvasElement;
    this.view = new FaceView(canvas, client, events.error);
    const seedLabel = Element("label", "", "", "row");
    this.seedInput = Element("input", "", "seedInput") as HTMLInputElement;
    Object.assign(this.seedInput, { type: "number", min: "0", max: "4294967295", step: "1" });
    this.seedInput.dataset.param = "seed";
    this.seedInput.addEventListener("change", () => {
      const value = Number(this.seedInput.value);
      if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) events.setParam("seed", value);
    });
    seedLabel.append(Text("span", "seed"), this.seedInput);
    const labels = Element("div", "", "labels");
    for (const attribute of metadata.labels.filter((l) => l.values.length > 1)) {
      const row = Element("label", "", "", "row");
      const select = document.createElement("select");
      select.dataset.label = attribute.name;
      select.append(new Option("drawn by the seed", ""), ...attribute.values.map((v) => new Option(v, v)));
      select.addEventListener("change", () => events.setLabel(attribute.name, select.value === "" ? undefined : select.value));
      row.append(Text("span", attribute.name), select);
      labels.append(row);
      this.labelChoices.push({ attribute: attribute.name, select });
    }
    const sliders = Element("div", "", "sliders");
    const groups = new Map<string, HTMLElement>();
    const groupOf = (control: ModelControl): HTMLElement => {
      const folded = FoldedLabelAttribute(metadata, control);
      if (folded === undefined) return sliders;
      let group = groups.get(folded.name);
      if (!group) {
        group = Element("details", "", "", "controlGroup");
        group.dataset.attribute = folded.name;
        group.append(Text("summary", `${folded.name}: ${folded.values.length} label directions`));
        sliders.append(group);
        groups.set(folded.name, group);
      }
      return group;
    };
    const add = (label: string, param: string, min: number, max: number, step: number, read: (p: FaceParams) => number, set: (v: number) => void, parent = sliders): void => {
      const row = Element("label", "", "", "slider");
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: String(min), max: String(max), step: String(step) });
      input.dataset.param = param;
      const output = document.createElement("output");
      input.addEventListener("input", () => set(Number(input.value)));
      row.append(Text("span", label), input, output);
      parent.append(row);
      this.sliders.push({ input, output, read });
    };
    add("truncation (psi)", "psi", 0, 1.5, 0.01, (p) => p.psi ?? metadata.defaults.psi, (v) => events.setParam("psi", v));
    add("noise strength", "noiseStrength", 0, 2, 0.01, (p) => p.noiseStrength ?? metadata.defaults.noiseStrength, (v) => events.setParam("noiseStrength", v));
    for (const control of metadata.controls) {
      const step = Math.max((control.max - control.min) / 200, 1e-4);
      add(control.label || control.name, `control_${control.name}`, control.min, control.max, step, (p) => p.controls?.[control.name] ?? control.default, (v) => events.setControl(control.name, v), groupOf(control));
    }
    container.append(this.title, canvas, seedLabel, labels, sliders);
  }

  /** Shows `params` (face and slider positions). */
  update(params: FaceParams, editingId: string | undefined): void {
    this.title.textContent = editingId !== undefined ? `editing ${editingId}` : `face ${params.seed}${params.mixSeed !== undefined ? ` × ${params.mixSeed}` : ""}`;
    if (document.activeElement !== this.seedInput) this.seedInput.value = String(params.seed);
    const drawn = this.labelChoices.length > 0 ? DrawnLabelValues(this.metadata, params) : {};
    for (const { attribute, select } of this.labelChoices) {
      const set = params.labels?.[attribute];
      select.value = set ?? "";
      select.options[0].text = set === undefined && drawn[attribute] ? `drawn by the seed: ${drawn[attribute]}` : "drawn by the seed";
    }
    for (const slider of this.sliders) {
      const value = slider.read(params);
      slider.input.value = String(value);
      slider.output.textContent = value.toFixed(2);
    }
    this.view.show(params);
  }
}

function Element(tag: string, text = "", id = "", className = ""): HTMLElement {
  const element = document.createElement(tag);
  if (text) element.textContent = text;
  if (id) element.id = id;
  if (className) element.className = className;
  return element;
}

function Text(tag: string, text: string): HTMLElement {
  return Element(tag, text);
}

/** The label values a face gets ({@link FaceLabelValues}); none for a request the model refuses (generating it reports why). */
function DrawnLabelValues(metadata: ModelMetadata, params: FaceParams): Record<string, string> {
  try {
    return FaceLabelValues(metadata, params);
  } catch {
    return {};
  }
}
