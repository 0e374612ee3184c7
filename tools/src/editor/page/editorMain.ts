/**
 * The seed editor page (served by `npc-faces editor`): browse faces by seed, edit one with sliders, breed two, lock
 * faces into the manifest, save. Wires the modules together, handles the keyboard, keeps the view (page, face being
 * edited) across reloads in localStorage, and exposes `window.npcFacesEditorTest` for the end-to-end test and the
 * bench; `document.body.dataset.editorReady` is set once the first grid is drawn (`editorError` on failure).
 */
import type { FaceRequest } from "@npc-faces/runtime";
import { EditorApi, EditorTokenHeader, EditorTokenMetaName, type EditorTestHook, type ManifestResponse, type ModelInfoResponse, type ProblemsResponse, type SaveResponse, type ShownFace } from "./editorApi.js";
import { EditorApp, EditorInputError, NpcParams, type FaceParams } from "./editorApp.js";
import { Breeding } from "./breeding.js";
import { BytesToBase64 } from "./faceCanvas.js";
import { FaceDetail } from "./faceDetail.js";
import { FaceGrid, FacesPerPage, LastPage, PageOfSeed } from "./faceGrid.js";
import { CreateHeadPreviewAsync } from "./headPreview.js";
import { ManifestPanel } from "./manifestPanel.js";

declare global {
  interface Window {
    npcFacesEditorTest?: EditorTestHook;
  }
}

const statusLine = document.getElementById("status")!;

function SetStatus(text: string, error = false): void {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", error);
}

function Fail(message: string): void {
  console.error(`npc-faces editor: ${message}`);
  SetStatus(message, true);
  document.body.dataset.editorError = message;
}

async function FetchJsonAsync<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as T };
}

/** This launch's write token, which the server put into the page; saves without it are refused. */
function WriteToken(): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${EditorTokenMetaName}"]`)?.content ?? "";
}

/** What survives a reload besides the manifest file. */
interface ViewState {
  page: number;
  current: FaceParams;
  editingId?: string;
}

async function MainAsync(): Promise<void> {
  const { body: info } = await FetchJsonAsync<ModelInfoResponse>(EditorApi.modelInfo);
  const modelLine = document.getElementById("model")!;
  const strong = document.createElement("strong");
  strong.textContent = info.trained ? info.name : `${info.name} (untrained)`;
  modelLine.replaceChildren("model ", strong, ` ${info.modelPath} · sha256 ${info.sha256.slice(0, 12)}…`);
  modelLine.classList.toggle("untrained", !info.trained);

  SetStatus("loading the model into the face worker ...");
  const [loaded, modelBytes] = await Promise.all([
    FetchJsonAsync<ManifestResponse>(EditorApi.manifest),
    fetch(EditorApi.model).then(async (r) => new Uint8Array(await r.arrayBuffer())),
  ]);
  const errors: string[] = [];
  const preview = await CreateHeadPreviewAsync(document.getElementById("previewCanvas") as HTMLCanvasElement, modelBytes, (m) => ReportError(m));
  const modelLoaded = performance.now();
  document.getElementById("engine")!.textContent = `3D preview: ${preview.engineDescription}; faces on ${preview.system.backendName}`;
  const client = preview.system.client;
  const metadata = info.metadata;

  const viewKey = `npc-faces-editor:${info.manifestPath}`;
  const saved = ReadViewState(viewKey);
  const app = new EditorApp();
  const manifest = loaded.body.manifest;
  app.schemaRef = manifest?.$schema;
  let saveBlocked = false;
  const panel = new ManifestPanel(document.getElementById("manifest")!, client, loaded.body.path, {
    lock: (id, name) => Guard(() => app.lock(id, name)),
    edit: (id) => Guard(() => app.edit(id)),
    rename: (id, name) => Guard(() => app.rename(id, name)),
    remove: (id) => Guard(() => app.remove(id)),
    save: () => void SaveAsync(),
    undo: () => app.undo(),
    redo: () => app.redo(),
    error: (m) => ReportError(m),
  });
  function ReportError(message: string): void {
    errors.push(message);
    panel.setMessages("error", errors.slice(-5));
  }
  function Guard(action: () => void): void {
    try {
      action();
      panel.setMessages("error", []);
    } catch (error) {
      if (error instanceof EditorInputError) panel.setMessages("error", [error.message]);
      else throw error;
    }
  }

  if (manifest) {
    panel.setMessages("warning", loaded.body.check.warnings);
    if (loaded.body.check.errors.length > 0) panel.setMessages("error", [`${loaded.body.path} does not fit this model:`, ...loaded.body.check.errors]);
  } else {
    saveBlocked = true;
    panel.setMessages("error", [`${loaded.body.path} is not a valid manifest (${loaded.body.problems.length} problem${loaded.body.problems.length === 1 ? "" : "s"}); fix or move it, then reload. Saving is disabled so it is not overwritten.`, ...loaded.body.problems]);
  }
  app.load(manifest?.npcs ?? [], saved?.current ?? { seed: 0 }, saved?.editingId);

  const grid = new FaceGrid(document.getElementById("grid")!, client, {
    select: (seed) => app.select(seed),
    pickPartner: (seed) => breeding.pickPartner(seed),
    pageDrawn: (page, ms) => OnPageDrawn(page, ms),
    error: (m) => ReportError(m),
  });
  const detail = new FaceDetail(document.getElementById("detail")!, client, metadata, {
    setParam: (key, value) => app.setParam(key, value),
    setControl: (name, value) => app.setControl(name, value),
    setLabel: (attribute, value) => app.setLabel(attribute, value),
    error: (m) => ReportError(m),
  });
  const breeding = new Breeding(document.getElementById("breeding")!, client, metadata, {
    breed: (partner, crossover, mix) => app.breed(partner, crossover, mix),
    stop: () => app.clearBreeding(),
    error: (m) => ReportError(m),
  });

  const pageLabel = document.getElementById("pageLabel")!;
  const ShowPage = (page: number): void => {
    grid.showPage(page);
    pageLabel.textContent = `page ${grid.page + 1} · seeds ${grid.page * FacesPerPage}–${grid.page * FacesPerPage + FacesPerPage - 1}`;
    grid.highlight(app.doc.current.seed, app.doc.current.mixSeed);
    PersistView();
  };
  const PersistView = (): void => {
    const state: ViewState = { page: grid.page, current: app.doc.current, ...(app.doc.editingId !== undefined ? { editingId: app.doc.editingId } : {}) };
    try {
      localStorage.setItem(viewKey, JSON.stringify(state));
    } catch {
      // Storage full or disabled: the view just starts at the first page next time.
    }
  };
  const Render = (): void => {
    const { current, editingId } = app.doc;
    detail.update(current, editingId);
    breeding.update(current, metadata.numWs);
    panel.update(app);
    grid.highlight(current.seed, current.mixSeed);
    preview.show(current);
    document.title = `${app.dirty ? "* " : ""}npc-faces: seed editor`;
    PersistView();
  };
  app.onChange(Render);

  const SelectSeed = (seed: number): void => {
    const s = Math.max(0, Math.min(0xffffffff, seed));
    if (PageOfSeed(s) !== grid.page) ShowPage(PageOfSeed(s));
    app.select(s);
  };

  async function SaveAsync(): Promise<void> {
    if (saveBlocked) {
      panel.setMessages("error", ["saving is disabled: the manifest file on disk is not valid (see above); fix or move it and reload"]);
      return;
    }
    const body = app.toManifest({ sha256: info.sha256, name: info.name });
    SetStatus("saving ...");
    const result = await FetchJsonAsync<SaveResponse | ProblemsResponse>(EditorApi.manifest, {
      method: "PUT",
      headers: { "Content-Type": "application/json", [EditorTokenHeader]: WriteToken() },
      body: JSON.stringify(body),
    });
    if (result.status !== 200) {
      const problems = result.body as ProblemsResponse;
      panel.setMessages("error", [`not saved: ${problems.error}`, ...problems.problems]);
      SetStatus("not saved", true);
      return;
    }
    const done = result.body as SaveResponse;
    app.markSaved();
    // Saved with this model: the old mismatch warning no longer applies.
    panel.setMessages("warning", done.warnings);
    panel.setMessages("error", []);
    panel.setMessages("info", [`saved ${body.npcs.length} NPC${body.npcs.length === 1 ? "" : "s"} to ${done.path}`]);
    SetStatus(`saved ${done.path}`);
  }

  document.getElementById("prevPage")!.addEventListener("click", () => ShowPage(grid.page - 1));
  document.getElementById("nextPage")!.addEventListener("click", () => ShowPage(grid.page + 1));
  const jump = document.getElementById("jumpSeed") as HTMLInputElement;
  const DoJump = (): void => {
    const seed = Number(jump.value);
    if (jump.value !== "" && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff) SelectSeed(seed);
  };
  document.getElementById("jumpButton")!.addEventListener("click", DoJump);
  jump.addEventListener("keydown", (event) => {
    if (event.key === "Enter") DoJump();
  });
  document.addEventListener("keydown", (event) => {
    const target = event.target as HTMLElement;
    // A select takes arrows and letters for its own options, as a text field takes them for text.
    const typing = (target instanceof HTMLInputElement && target.type !== "range") || target instanceof HTMLSelectElement;
    const ctrl = event.ctrlKey || event.metaKey;
    if (ctrl && event.key.toLowerCase() === "s") {
      event.preventDefault();
      void SaveAsync();
      return;
    }
    if (typing) return;
    if (ctrl && event.key.toLowerCase() === "z") {
      event.preventDefault();
      if (event.shiftKey) app.redo();
      else app.undo();
      return;
    }
    if (ctrl && event.key.toLowerCase() === "y") {
      event.preventDefault();
      app.redo();
      return;
    }
    if (ctrl || event.altKey) return;
    const seed = app.doc.current.seed;
    const moves: Record<string, () => void> = {
      ArrowRight: () => SelectSeed(seed + 1),
      ArrowLeft: () => SelectSeed(seed - 1),
      ArrowDown: () => SelectSeed(seed + 6),
      ArrowUp: () => SelectSeed(seed - 6),
      PageDown: () => ShowPage(grid.page + 1),
      "]": () => ShowPage(grid.page + 1),
      PageUp: () => ShowPage(grid.page - 1),
      "[": () => ShowPage(grid.page - 1),
      Home: () => ShowPage(0),
      End: () => ShowPage(LastPage),
      g: () => jump.focus(),
      l: () => panel.focusLock(),
    };
    const move = moves[event.key];
    if (move && !(target instanceof HTMLInputElement && event.key.startsWith("Arrow"))) {
      event.preventDefault();
      move();
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (app.dirty) event.preventDefault();
  });

  let firstGrid = 0;
  let firstGridPageMs = 0;
  function OnPageDrawn(page: number, ms: number): void {
    if (firstGrid !== 0) return;
    firstGrid = performance.now();
    firstGridPageMs = ms;
    const seconds = (firstGrid / 1000).toFixed(1);
    SetStatus(`ready: first ${FacesPerPage} faces ${seconds} s after opening (page ${page + 1} drawn in ${(ms / 1000).toFixed(1)} s)`);
    hook.timings.firstGrid = firstGrid;
    hook.timings.firstGridPageMs = firstGridPageMs;
    document.body.dataset.editorReady = "1";
  }

  const Shown = (face: { width: number; height: number; data: Uint8Array } | undefined, request: FaceRequest | undefined): ShownFace | undefined =>
    face && request ? { request, width: face.width, height: face.height, base64: BytesToBase64(face.data) } : undefined;
  const hook: EditorTestHook = {
    crossOriginIsolated,
    backendName: preview.system.backendName ?? "unknown",
    engineDescription: preview.engineDescription,
    timings: { modelLoaded, firstGrid: 0, firstGridPageMs: 0 },
    state: () => ({
      page: grid.page,
      gridSeeds: grid.seeds,
      current: app.doc.current,
      editingId: app.doc.editingId,
      manifest: app.toManifest({ sha256: info.sha256, name: info.name }),
      dirty: app.dirty,
      canUndo: app.canUndo,
      canRedo: app.canRedo,
      messages: document.getElementById("messages")!.textContent ?? "",
    }),
    gridFace: (seed) => Shown(grid.faceOf(seed), { seed }),
    detailFace: () => Shown(detail.view.face, detail.view.shownRequest),
    lockedFace: (id) => {
      const view = panel.views.get(id);
      const npc = app.doc.npcs.find((n) => n.id === id);
      return view && npc ? Shown(view.face, NpcParams(npc)) : undefined;
    },
    async whenIdleAsync() {
      await grid.whenDrawnAsync();
      await detail.view.whenIdleAsync();
      await Promise.all([...panel.views.values()].map((v) => v.whenIdleAsync()));
      await preview.plugin.whenSettledAsync();
    },
  };
  window.npcFacesEditorTest = hook;

  ShowPage(saved?.page ?? PageOfSeed(app.doc.current.seed));
  Render();
}

function ReadViewState(key: string): ViewState | undefined {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? "null") as ViewState | null;
    return value && typeof value.page === "number" && typeof value.current?.seed === "number" ? value : undefined;
  } catch {
    return undefined;
  }
}

MainAsync().catch((error: unknown) => Fail(error instanceof Error ? error.message : String(error)));
