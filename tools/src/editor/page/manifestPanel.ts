/**
 * The manifest panel: lock the face being edited as an NPC (id + name), the locked NPCs with their faces (edit,
 * rename, remove), save, undo/redo, and the messages of loading and saving (every problem with its path; the
 * warning when the manifest was saved for another model).
 */
import type { ManifestNpc } from "@npc-faces/runtime";
import type { FaceWorkerClient } from "@npc-faces/babylon";
import type { EditorApp } from "./editorApp.js";
import { NpcParams } from "./editorApp.js";
import { FaceView } from "./faceCanvas.js";

/** What the panel asks the page to do. */
export interface ManifestPanelEvents {
  lock(id: string, name: string): void;
  edit(id: string): void;
  rename(id: string, name: string): void;
  remove(id: string): void;
  save(): void;
  undo(): void;
  redo(): void;
  error(message: string): void;
}

/** The manifest panel. */
export class ManifestPanel {
  /** Thumbnail views by NPC id: what the editor shows for each locked face. */
  readonly views = new Map<string, FaceView>();
  private readonly idInput: HTMLInputElement;
  private readonly nameInput: HTMLInputElement;
  private readonly lockButton: HTMLButtonElement;
  private readonly saveButton: HTMLButtonElement;
  private readonly undoButton: HTMLButtonElement;
  private readonly redoButton: HTMLButtonElement;
  private readonly list: HTMLOListElement;
  private readonly messages: HTMLElement;
  private readonly pathLine: HTMLElement;

  constructor(container: HTMLElement, private readonly client: FaceWorkerClient, manifestPath: string, private readonly events: ManifestPanelEvents) {
    const title = document.createElement("h2");
    title.textContent = "manifest";
    this.pathLine = document.createElement("p");
    this.pathLine.id = "manifestPath";
    this.pathLine.textContent = manifestPath;
    this.saveButton = Button("save", "saveButton", "Ctrl+S", () => events.save());
    this.undoButton = Button("undo", "undoButton", "Ctrl+Z", () => events.undo());
    this.redoButton = Button("redo", "redoButton", "Ctrl+Shift+Z / Ctrl+Y", () => events.redo());
    const buttons = document.createElement("div");
    buttons.className = "buttons";
    buttons.append(this.saveButton, this.undoButton, this.redoButton);
    this.messages = document.createElement("div");
    this.messages.id = "messages";

    const form = document.createElement("form");
    form.id = "lockForm";
    this.idInput = Input("npcId", "NPC id, e.g. guard_01");
    this.nameInput = Input("npcName", "name, e.g. Gate guard");
    this.lockButton = document.createElement("button");
    this.lockButton.type = "submit";
    this.lockButton.id = "lockButton";
    this.lockButton.textContent = "lock";
    this.lockButton.title = "lock this face into the manifest (L focuses the id)";
    form.append(this.idInput, this.nameInput, this.lockButton);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      events.lock(this.idInput.value, this.nameInput.value);
    });
    this.list = document.createElement("ol");
    this.list.id = "npcList";
    container.append(title, this.pathLine, buttons, this.messages, form, this.list);
  }

  /** Focuses the NPC id field (keyboard shortcut L). */
  focusLock(): void {
    this.idInput.focus();
    this.idInput.select();
  }

  /** Shows messages: `kind` error (problems), warning or info. Replaces the previous ones of the same kind. */
  setMessages(kind: "error" | "warning" | "info", lines: readonly string[]): void {
    for (const old of this.messages.querySelectorAll(`.${kind}`)) old.remove();
    if (lines.length === 0) return;
    const box = document.createElement("div");
    box.className = kind;
    const list = document.createElement("ul");
    for (const line of lines) {
      const item = document.createElement("li");
      item.textContent = line;
      list.append(item);
    }
    box.append(list);
    this.messages.append(box);
  }

  /** Redraws from the editor state. */
  update(app: EditorApp): void {
    const { npcs, current, editingId } = app.doc;
    this.saveButton.textContent = app.dirty ? "save *" : "save";
    this.saveButton.classList.toggle("dirty", app.dirty);
    this.undoButton.disabled = !app.canUndo;
    this.undoButton.title = app.undoLabel ? `undo ${app.undoLabel} (Ctrl+Z)` : "nothing to undo";
    this.redoButton.disabled = !app.canRedo;
    this.redoButton.title = app.redoLabel ? `redo ${app.redoLabel} (Ctrl+Shift+Z)` : "nothing to redo";
    const editing = npcs.find((n) => n.id === editingId);
    this.lockButton.textContent = editing ? `update ${editing.id}` : "lock";
    if (document.activeElement !== this.idInput && document.activeElement !== this.nameInput) {
      this.idInput.value = editing?.id ?? "";
      this.nameInput.value = editing?.name ?? "";
      if (!editing) this.idInput.placeholder = `NPC id, e.g. npc_${current.seed}`;
    }
    const seen = new Set<string>();
    this.list.replaceChildren(...npcs.map((npc) => this.item(npc, npc.id === editingId, seen)));
    for (const [id, view] of this.views) {
      if (!seen.has(id)) {
        view.dispose();
        this.views.delete(id);
      }
    }
  }

  private item(npc: ManifestNpc, editing: boolean, seen: Set<string>): HTMLLIElement {
    seen.add(npc.id);
    const li = document.createElement("li");
    li.dataset.id = npc.id;
    li.classList.toggle("editing", editing);
    let view = this.views.get(npc.id);
    if (!view) {
      view = new FaceView(document.createElement("canvas"), this.client, this.events.error);
      this.views.set(npc.id, view);
    }
    view.show(NpcParams(npc));
    const info = document.createElement("div");
    const id = document.createElement("code");
    id.textContent = npc.id;
    const name = document.createElement("input");
    name.className = "name";
    name.value = npc.name;
    name.title = "rename";
    name.addEventListener("change", () => this.events.rename(npc.id, name.value));
    const summary = document.createElement("small");
    summary.textContent = Summary(npc);
    info.append(id, name, summary);
    const edit = Button("edit", "", "open in the detail view", () => this.events.edit(npc.id));
    edit.className = "edit";
    const remove = Button("remove", "", "remove from the manifest", () => this.events.remove(npc.id));
    remove.className = "remove";
    li.append(view.canvas, info, edit, remove);
    return li;
  }
}

function Summary(npc: ManifestNpc): string {
  const parts = [`seed ${npc.seed}`];
  if (npc.mixSeed !== undefined) parts.push(`× ${npc.mixSeed} (layer ${npc.mixCrossover ?? 0}, mix ${npc.mix ?? 1})`);
  if (npc.psi !== undefined) parts.push(`psi ${npc.psi}`);
  if (npc.noiseStrength !== undefined) parts.push(`noise ${npc.noiseStrength}`);
  for (const [name, value] of Object.entries(npc.labels ?? {})) parts.push(`${name} ${value}`);
  for (const [name, value] of Object.entries(npc.controls ?? {})) parts.push(`${name} ${value}`);
  return parts.join(", ");
}

function Input(id: string, placeholder: string): HTMLInputElement {
  const input = document.createElement("input");
  input.id = id;
  input.placeholder = placeholder;
  input.autocomplete = "off";
  return input;
}

function Button(text: string, id: string, title: string, onClick: () => void): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = text;
  if (id) button.id = id;
  button.title = title;
  button.addEventListener("click", onClick);
  return button;
}
