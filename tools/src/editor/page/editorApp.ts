/**
 * The seed editor's state and its undo/redo: DOM-free, so it is unit-tested in Node. The undoable document is the
 * list of locked NPCs plus the face being edited; every change is a command on a stack (its state before and after),
 * so undo/redo restore exactly. Consecutive moves of the same slider merge into one command.
 */
import { ManifestFormatName, ManifestFormatVersion, NpcIdPattern, type FaceManifest, type FaceRequest, type ManifestNpc, type ModelControl, type ModelLabel, type ModelMetadata } from "@npc-faces/runtime";

/** The parameters of the face in the detail view: a {@link FaceRequest} (seed, breeding, psi, noise, controls, labels). */
export type FaceParams = FaceRequest;

/** The undoable part of the editor. */
export interface EditorDoc {
  readonly npcs: readonly ManifestNpc[];
  /** The face shown in the detail view (and on the 3D head). */
  readonly current: FaceParams;
  /** The locked NPC the detail view edits, if any (locking again updates it). */
  readonly editingId: string | undefined;
}

/** One entry of the undo stack. */
export interface EditorCommand {
  readonly label: string;
  readonly before: EditorDoc;
  after: EditorDoc;
  /** Commands with the same key in quick succession merge (a slider drag is one undo step). */
  readonly mergeKey: string | undefined;
  at: number;
}

/** Slider moves of the same parameter closer than this (ms) merge into one undo step. */
export const MergeWindowMs = 1500;

/** A refused edit (bad NPC id, ...), with a message for the designer. */
export class EditorInputError extends Error {
  override readonly name = "EditorInputError";
}

/** The numeric face parameters a slider or field can set. */
export type FaceParamKey = "seed" | "mixSeed" | "mix" | "mixCrossover" | "psi" | "noiseStrength";

/** Drops undefined fields and empty records, so saved manifests only hold what was set. */
export function CleanParams(params: FaceParams): FaceParams {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (typeof value === "object" && value !== null && Object.keys(value).length === 0) continue;
    out[key] = typeof value === "object" && value !== null ? { ...value } : value;
  }
  if (out.mixSeed === undefined) {
    delete out.mix;
    delete out.mixCrossover;
  }
  return out as unknown as FaceParams;
}

/** Label attributes with more values than this show their per-value label controls in one closed group. */
export const FoldedLabelControls = 4;

/**
 * The label attribute whose closed group a control goes into: a label control of a categorical attribute (its
 * column `attribute=value`) with more than {@link FoldedLabelControls} values; `undefined` for every other control.
 */
export function FoldedLabelAttribute(metadata: Pick<ModelMetadata, "labels">, control: ModelControl): ModelLabel | undefined {
  if (control.kind !== "label" || !control.label.includes("=")) return undefined;
  const attribute = metadata.labels.find((l) => l.name === control.label.split("=")[0]);
  return attribute !== undefined && attribute.values.length > FoldedLabelControls ? attribute : undefined;
}

/** The face parameters of a manifest entry (its identity and notes dropped). */
export function NpcParams(npc: ManifestNpc): FaceParams {
  const { id: _id, name: _name, notes: _notes, ...params } = npc;
  return CleanParams(params);
}

/** The editor's document, history and save state. */
export class EditorApp {
  private docValue: EditorDoc;
  private readonly undoStack: EditorCommand[] = [];
  private readonly redoStack: EditorCommand[] = [];
  private savedNpcs: string;
  private readonly listeners: ((app: EditorApp) => void)[] = [];

  /** @param now clock for merging slider moves (tests pass their own) */
  constructor(
    npcs: readonly ManifestNpc[] = [],
    private readonly now: () => number = () => Date.now(),
  ) {
    this.docValue = { npcs: npcs.map((n) => ({ ...n })), current: { seed: 0 }, editingId: undefined };
    this.savedNpcs = JSON.stringify(this.docValue.npcs);
  }

  /** The current document. */
  get doc(): EditorDoc {
    return this.docValue;
  }

  /** True when the locked NPCs differ from the last load or save. */
  get dirty(): boolean {
    return JSON.stringify(this.docValue.npcs) !== this.savedNpcs;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Label of the command undo would revert (for the button's tooltip). */
  get undoLabel(): string | undefined {
    return this.undoStack.at(-1)?.label;
  }

  get redoLabel(): string | undefined {
    return this.redoStack.at(-1)?.label;
  }

  /** Calls `listener` after every change (edit, undo, redo, load, save). */
  onChange(listener: (app: EditorApp) => void): void {
    this.listeners.push(listener);
  }

  /** Replaces the locked NPCs (a loaded manifest) and clears the history. */
  load(npcs: readonly ManifestNpc[], current?: FaceParams, editingId?: string): void {
    const list = npcs.map((n) => ({ ...n }));
    this.docValue = { npcs: list, current: CleanParams(current ?? this.docValue.current), editingId: editingId !== undefined && list.some((n) => n.id === editingId) ? editingId : undefined };
    this.savedNpcs = JSON.stringify(list);
    this.undoStack.length = 0;
    this.redoStack.length = 0;
    this.emit();
  }

  /** Shows a face of the grid in the detail view (default parameters). */
  select(seed: number): void {
    this.apply(`select face ${seed}`, { ...this.docValue, current: { seed }, editingId: undefined });
  }

  /** Sets one numeric parameter of the current face; `undefined` returns it to the model's default. */
  setParam(key: FaceParamKey, value: number | undefined): void {
    const current = CleanParams({ ...this.docValue.current, [key]: value });
    this.apply(`set ${key}`, { ...this.docValue, current }, key);
  }

  /** Sets a named control of the current face. */
  setControl(name: string, value: number): void {
    const current = CleanParams({ ...this.docValue.current, controls: { ...this.docValue.current.controls, [name]: value } });
    this.apply(`set ${name}`, { ...this.docValue, current }, `control:${name}`);
  }

  /** Fixes a categorical label of the current face (conditional models); `undefined` lets its seed draw it again. */
  setLabel(attribute: string, value: string | undefined): void {
    const labels: Record<string, string> = { ...this.docValue.current.labels };
    if (value === undefined) delete labels[attribute];
    else labels[attribute] = value;
    const current = CleanParams({ ...this.docValue.current, labels });
    this.apply(value === undefined ? `draw ${attribute} by seed` : `set ${attribute} ${value}`, { ...this.docValue, current });
  }

  /**
   * Breeds the current face with `partnerSeed` (style mixing): the child takes the partner's styles from layer
   * `crossover` up (coarse features below it stay), blended by `mix` (1 = the partner's styles fully).
   */
  breed(partnerSeed: number, crossover: number, mix: number): void {
    const current = CleanParams({ ...this.docValue.current, mixSeed: partnerSeed, mixCrossover: crossover, mix });
    this.apply(`breed with ${partnerSeed}`, { ...this.docValue, current }, "breed");
  }

  /** Removes breeding from the current face. */
  clearBreeding(): void {
    const { mixSeed: _s, mix: _m, mixCrossover: _c, ...rest } = this.docValue.current;
    this.apply("stop breeding", { ...this.docValue, current: CleanParams(rest) });
  }

  /**
   * Locks the current face into the manifest as NPC `id` (replacing an NPC of that id).
   * @throws EditorInputError for an id the manifest format refuses
   */
  lock(id: string, name: string): ManifestNpc {
    const trimmed = id.trim();
    if (!NpcIdPattern.test(trimmed)) throw new EditorInputError(`"${id}" is not a valid NPC id: letters, digits, '_', '-', '.' (not first), at most 128 characters`);
    if (name.length > 200) throw new EditorInputError("the name is longer than 200 characters");
    const previous = this.docValue.npcs.find((n) => n.id === trimmed);
    const npc: ManifestNpc = { id: trimmed, name, ...CleanParams(this.docValue.current), ...(previous?.notes !== undefined ? { notes: previous.notes } : {}) };
    const npcs = previous ? this.docValue.npcs.map((n) => (n.id === trimmed ? npc : n)) : [...this.docValue.npcs, npc];
    this.apply(previous ? `update ${trimmed}` : `lock ${trimmed}`, { ...this.docValue, npcs, editingId: trimmed });
    return npc;
  }

  /** Opens a locked NPC in the detail view; locking again updates it. */
  edit(id: string): void {
    const npc = this.find(id);
    this.apply(`edit ${id}`, { ...this.docValue, current: NpcParams(npc), editingId: id });
  }

  /** Renames a locked NPC. */
  rename(id: string, name: string): void {
    const npc = this.find(id);
    if (npc.name === name) return;
    this.apply(`rename ${id}`, { ...this.docValue, npcs: this.docValue.npcs.map((n) => (n.id === id ? { ...n, name } : n)) });
  }

  /** Removes a locked NPC from the manifest. */
  remove(id: string): void {
    this.find(id);
    this.apply(`remove ${id}`, { ...this.docValue, npcs: this.docValue.npcs.filter((n) => n.id !== id), editingId: this.docValue.editingId === id ? undefined : this.docValue.editingId });
  }

  undo(): boolean {
    const command = this.undoStack.pop();
    if (!command) return false;
    this.redoStack.push(command);
    this.docValue = command.before;
    this.emit();
    return true;
  }

  redo(): boolean {
    const command = this.redoStack.pop();
    if (!command) return false;
    this.undoStack.push(command);
    this.docValue = command.after;
    this.emit();
    return true;
  }

  /** The loaded manifest's `$schema` (a pointer to its JSON Schema for text editors), kept on save. */
  schemaRef: string | undefined;

  /** The manifest to save, for the model with this hash and name. */
  toManifest(model: { sha256: string; name: string }): FaceManifest {
    return {
      ...(this.schemaRef !== undefined ? { $schema: this.schemaRef } : {}),
      format: ManifestFormatName,
      formatVersion: ManifestFormatVersion,
      model: { sha256: model.sha256, name: model.name },
      npcs: this.docValue.npcs.map((n) => ({ ...n })),
    };
  }

  /** Records that the current NPCs are what the file holds now. */
  markSaved(): void {
    this.savedNpcs = JSON.stringify(this.docValue.npcs);
    this.emit();
  }

  private find(id: string): ManifestNpc {
    const npc = this.docValue.npcs.find((n) => n.id === id);
    if (!npc) throw new EditorInputError(`no locked NPC "${id}"`);
    return npc;
  }

  private apply(label: string, after: EditorDoc, mergeKey?: string): void {
    if (JSON.stringify(after) === JSON.stringify(this.docValue)) return;
    const at = this.now();
    const last = this.undoStack.at(-1);
    if (mergeKey !== undefined && last?.mergeKey === mergeKey && at - last.at < MergeWindowMs && this.redoStack.length === 0) {
      last.after = after;
      last.at = at;
    } else {
      this.undoStack.push({ label, before: this.docValue, after, mergeKey, at });
    }
    this.redoStack.length = 0;
    this.docValue = after;
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener(this);
  }
}
