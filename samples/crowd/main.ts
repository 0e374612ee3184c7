/**
 * The crowd sample: 64 NPCs, each with its own seed, whose faces the npc-faces plugin generates at load time in a
 * Web Worker; a panel edits one NPC's parameters live.
 *
 * URL query: `engine=webgl2|webgpu` (Babylon engine, default webgl2), `material=standard|pbr` (the faces' material), `ep=wasm|webgpu` (onnxruntime-web provider,
 * default wasm: the canonical engine, the same bytes on every machine), `count=N` (NPCs, default 64), `threads=N` (WASM
 * threads, default 1: the canonical engine; more are faster but "close, not exact", see docs/seeds.md).
 *
 * For automation: `document.body.dataset.npcFacesReady` is set to the number of faces once `scene.whenReadyAsync()`
 * has resolved (`npcFacesError` holds the message when something failed), and `window.npcFacesTest` exposes the
 * hooks the end-to-end tests and the browser bench use.
 */
import { Engine } from "@babylonjs/core/Engines/engine.js";
import type { AbstractEngine } from "@babylonjs/core/Engines/abstractEngine.js";
import { WebGPUEngine } from "@babylonjs/core/Engines/webgpuEngine.js";
import { Scene } from "@babylonjs/core/scene.js";
import { ArcRotateCamera } from "@babylonjs/core/Cameras/arcRotateCamera.js";
import { HemisphericLight } from "@babylonjs/core/Lights/hemisphericLight.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { PBRMaterial } from "@babylonjs/core/Materials/PBR/pbrMaterial.js";
import { Color3, Color4 } from "@babylonjs/core/Maths/math.color.js";
import { Matrix, Vector2, Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import { CreatePlane } from "@babylonjs/core/Meshes/Builders/planeBuilder.js";
import { CreateCylinder } from "@babylonjs/core/Meshes/Builders/cylinderBuilder.js";
import { CreateGround } from "@babylonjs/core/Meshes/Builders/groundBuilder.js";
import { CreateTorus } from "@babylonjs/core/Meshes/Builders/torusBuilder.js";
import type { Mesh } from "@babylonjs/core/Meshes/mesh.js";
import { PointerEventTypes } from "@babylonjs/core/Events/pointerEvents.js";
// Side effects: mesh instances (heads and bodies share one draw call each) and picking (click a head).
import "@babylonjs/core/Meshes/instancedMesh.js";
import "@babylonjs/core/Culling/ray.js";
import type { ModelControl } from "@npc-faces/runtime";
import { NpcFaceMaterialPlugin, NpcFaceSystem } from "@npc-faces/babylon";
// Opt-in: systems without modelUrl use the bundled default model (the build copies default.onnx next to main.js).
import "@npc-faces/babylon/defaultModel";
import type { LongTask, NpcFacesTestHook, NpcParameterChanges, SampleConfig } from "./testHook.js";

declare global {
  interface Window {
    npcFacesTest?: NpcFacesTestHook;
  }
}

const longTasks: LongTask[] = [];
try {
  // Registered first, so the whole load is observed ("longtask" exists in Chromium; elsewhere this throws).
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push({ startTime: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
} catch {
  // No long-task timing in this browser: the sample works the same.
}

const slowFrames: LongTask[] = [];
const faceTimes: number[] = [];

const query = new URLSearchParams(location.search);
const engineName = query.get("engine") === "webgpu" ? "webgpu" : "webgl2";
// `material=pbr`: the faces on PBRMaterial (metallic 0, roughness 1) instead of StandardMaterial.
const materialKind = query.get("material") === "pbr" ? "pbr" : "standard";
const executionProvider = query.get("ep") === "webgpu" ? "webgpu" : "wasm";
const npcCount = Math.max(1, Math.min(1024, Number(query.get("count") ?? 64) || 64));
const threadsParam = query.get("threads");
// Default 1, the runtime's: the canonical engine, whose bytes do not depend on the machine. More threads also compete
// with rendering and the browser's GPU process: on 2 cores, 2 threads made generation slower and the frames longer.
const numThreads = threadsParam !== null ? Math.max(1, Math.trunc(Number(threadsParam)) || 1) : undefined;
const expectedThreads = numThreads ?? 1;

const statusLine = document.getElementById("status")!;
const modelLine = document.getElementById("model")!;

function SetStatus(text: string, error = false): void {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", error);
}

function Fail(message: string): void {
  console.error(`npc-faces crowd: ${message}`);
  SetStatus(message, true);
  document.body.dataset.npcFacesError = message;
}

async function CreateEngineAsync(canvas: HTMLCanvasElement): Promise<AbstractEngine> {
  if (engineName === "webgpu") {
    if (!(await WebGPUEngine.IsSupportedAsync)) throw new Error("WebGPU is not available in this browser (try ?engine=webgl2)");
    const engine = new WebGPUEngine(canvas, { antialias: true, adaptToDeviceRatio: false });
    // Only WGSL shaders are used (StandardMaterial and the NpcFace plugin have WGSL code), so Babylon never needs
    // its GLSL->WGSL compilers, which it would fetch from a CDN.
    await engine.initAsync();
    return engine;
  }
  const engine = new Engine(canvas, true, { preserveDrawingBuffer: false, stencil: false, disableWebGL2Support: false });
  if (engine.webGLVersion < 2) throw new Error("WebGL2 is not available in this browser");
  return engine;
}

interface Npc {
  readonly index: number;
  readonly material: StandardMaterial | PBRMaterial;
  readonly plugin: NpcFaceMaterialPlugin;
  readonly face: Mesh;
}

async function MainAsync(): Promise<void> {
  const config = (await (await fetch("./sample-config.json")).json()) as SampleConfig;
  modelLine.innerHTML = "";
  const modelName = document.createElement("strong");
  modelName.textContent = config.trained ? config.modelName : `${config.modelName} (untrained)`;
  modelLine.append("Model: ", modelName, ` from ${config.modelPath}`);
  if (!config.trained) {
    modelLine.classList.add("untrained");
    modelLine.append(document.createElement("br"), "Untrained model: random weights, so the faces are coloured noise.");
  }
  const engineSwitch = document.getElementById("engineSwitch") as HTMLAnchorElement;
  const other = engineName === "webgl2" ? "webgpu" : "webgl2";
  engineSwitch.textContent = `${engineName} (switch to ${other})`;
  const otherQuery = new URLSearchParams(location.search);
  otherQuery.set("engine", other);
  engineSwitch.href = `?${otherQuery.toString()}`;

  const canvas = document.getElementById("renderCanvas") as HTMLCanvasElement;
  const engine = await CreateEngineAsync(canvas);
  const scene = new Scene(engine);
  const sceneCreated = performance.now();
  scene.clearColor = new Color4(0.11, 0.12, 0.15, 1);

  // The crowd stands on a square grid facing the camera (-z).
  const columns = Math.ceil(Math.sqrt(npcCount));
  const spacing = 1.6;
  const centre = new Vector3(0, 1.4, ((columns - 1) * spacing) / 2);
  const camera = new ArcRotateCamera("camera", -Math.PI / 2, 1.3, columns * spacing * 1.35, centre, scene);
  // Shifts the crowd left of the panel (which covers the right of the canvas).
  camera.targetScreenOffset = new Vector2(-columns * spacing * 0.13, 0);
  camera.lowerRadiusLimit = 2;
  camera.upperRadiusLimit = columns * spacing * 4;
  camera.wheelPrecision = 20;
  camera.attachControl(canvas, true);
  const light = new HemisphericLight("light", new Vector3(0.3, 1, -0.6), scene);
  light.groundColor = new Color3(0.35, 0.35, 0.4);

  const ground = CreateGround("ground", { width: columns * spacing + 2, height: columns * spacing + 2 }, scene);
  ground.position.z = centre.z;
  const groundMaterial = new StandardMaterial("groundMaterial", scene);
  groundMaterial.diffuseColor = new Color3(0.25, 0.28, 0.25);
  groundMaterial.specularColor = Color3.Black();
  ground.material = groundMaterial;

  const bodyTemplate = CreateCylinder("body", { height: 1.1, diameterTop: 0.5, diameterBottom: 0.7, tessellation: 12 }, scene);
  const bodyMaterial = new StandardMaterial("bodyMaterial", scene);
  bodyMaterial.diffuseColor = new Color3(0.3, 0.4, 0.6);
  bodyMaterial.specularColor = Color3.Black();
  bodyTemplate.material = bodyMaterial;
  const headTemplate = CreateSphere("head", { diameter: 0.8, segments: 8 }, scene);
  const headMaterial = new StandardMaterial("headMaterial", scene);
  headMaterial.diffuseColor = new Color3(0.55, 0.45, 0.38);
  headMaterial.specularColor = Color3.Black();
  headTemplate.material = headMaterial;
  bodyTemplate.isVisible = false;
  headTemplate.isVisible = false;
  // A ring at the feet of the NPC the panel edits (created now: its shader compiles before generation starts).
  const marker = CreateTorus("selection", { diameter: 1.1, thickness: 0.08, tessellation: 24 }, scene);
  const markerMaterial = new StandardMaterial("selectionMaterial", scene);
  markerMaterial.emissiveColor = new Color3(1, 0.75, 0.2);
  markerMaterial.disableLighting = true;
  marker.material = markerMaterial;
  marker.isPickable = false;

  let firstError: string | undefined;
  // Created before the materials (not awaited yet): each face plugin then binds the fallback texture from its first
  // frame, so the face shader compiles while the model loads rather than in the middle of generation.
  const facesPromise = NpcFaceSystem.CreateAsync(scene, {
    // No modelUrl: the bundled default model, opted in above (the build copies it next to main.js).
    ...(config.modelUrl !== null ? { modelUrl: config.modelUrl } : {}),
    workerUrl: new URL("./faceWorker.js", location.href).href,
    wasmPaths: new URL("./ort/", location.href).href,
    executionProvider,
    ...(numThreads !== undefined ? { numThreads } : {}),
    onError: (event) => {
      firstError ??= `${event.code}: ${event.message}`;
      Fail(firstError);
    },
  });
  const npcs: Npc[] = [];
  for (let i = 0; i < npcCount; i++) {
    const x = ((i % columns) - (columns - 1) / 2) * spacing;
    const z = Math.floor(i / columns) * spacing;
    const body = bodyTemplate.createInstance(`body${i}`);
    body.position.set(x, 0.55, z);
    const head = headTemplate.createInstance(`head${i}`);
    head.position.set(x, 1.45, z);
    head.metadata = { npc: i };
    // The face: a quad just in front of the head (a plane's front side faces -z, towards the camera).
    const face = CreatePlane(`face${i}`, { size: 0.62 }, scene);
    face.position.set(x, 1.45, z - 0.41);
    face.metadata = { npc: i };
    const material = materialKind === "pbr" ? FacePbrMaterial(`npc${i}`, scene) : new StandardMaterial(`npc${i}`, scene);
    if (material instanceof StandardMaterial) material.specularColor = new Color3(0.05, 0.05, 0.05);
    const plugin = new NpcFaceMaterialPlugin(material);
    plugin.seed = NpcSeed(i);
    plugin.onGeneratedObservable.add(() => faceTimes.push(performance.now()));
    face.material = material;
    npcs.push({ index: i, material, plugin, face });
  }

  let rendering = true;
  engine.runRenderLoop(() => {
    if (!rendering) return;
    const start = performance.now();
    scene.render();
    const duration = performance.now() - start;
    if (duration > 16) slowFrames.push({ startTime: start, duration });
  });
  window.addEventListener("resize", () => engine.resize());
  SetStatus(`loading the model and generating ${npcCount} faces ...`);
  const faces = await facesPromise;
  const modelLoaded = performance.now();
  if (faces.loadError) return Fail(`the model did not load: ${faces.loadError.message}`);

  await scene.whenReadyAsync();
  const ready = performance.now();
  // Checked right away, before any later frame could upload something.
  const notReady = npcs.filter((npc) => !HasGeneratedTexture(npc, faces)).map((npc) => npc.index);
  const readyAtWhenReady = { ready: npcs.length - notReady.length, total: npcs.length, notReady };

  const panel = CreatePanel(npcs, faces.controls, (npc) => marker.position.set(npc.face.position.x, 0.04, npc.face.position.z + 0.41));
  scene.onPointerObservable.add((info) => {
    const npc = (info.pickInfo?.pickedMesh?.metadata as { npc?: number } | null)?.npc;
    if (info.type === PointerEventTypes.POINTERPICK && npc !== undefined) panel.select(npc);
  });

  window.npcFacesTest = {
    engine: engineName,
    material: materialKind,
    materialClassOf: (index) => npcs[index].material.getClassName(),
    backendName: faces.backendName ?? "unknown",
    threads: expectedThreads,
    engineDescription: engine.description,
    crossOriginIsolated,
    faceCount: npcs.length,
    config,
    readyAtWhenReady,
    timings: { sceneCreated, modelLoaded, ready },
    longTasks,
    slowFrames,
    faceTimes,
    requestOf: (index) => npcs[index].plugin.request,
    readTexturePixelsAsync: (index) => ReadTexturePixelsAsync(npcs[index], faces),
    faceScreenPoints: (index, points) => ScreenPoints(npcs[index].face, scene, canvas, points),
    whenSettledAsync: (index) => WaitForFaceAsync(npcs[index].plugin),
    async setParametersAsync(index, changes) {
      ApplyChanges(npcs[index].plugin, changes);
      panel.refresh();
      await WaitForFaceAsync(npcs[index].plugin);
    },
    setRendering(on) {
      rendering = on;
    },
    async regenerateAllAsync(firstSeed) {
      const started = performance.now();
      for (const npc of npcs) npc.plugin.seed = (firstSeed + npc.index) >>> 0;
      await Promise.all(npcs.map((npc) => WaitForFaceAsync(npc.plugin)));
      panel.refresh();
      return performance.now() - started;
    },
  };

  const seconds = ((ready - sceneCreated) / 1000).toFixed(1);
  if (firstError === undefined) {
    const threads = `${expectedThreads} thread${expectedThreads === 1 ? "" : "s"}${crossOriginIsolated ? "" : ", not cross-origin isolated"}`;
    SetStatus(`${readyAtWhenReady.ready}/${npcs.length} faces in ${seconds} s on ${faces.backendName} (${threads}); ${engine.description}`);
  }
  document.body.dataset.npcFacesReady = String(readyAtWhenReady.ready);
}

/** A matte PBR material for a face: what a game's skin material would start from. */
function FacePbrMaterial(name: string, scene: Scene): PBRMaterial {
  const material = new PBRMaterial(name, scene);
  material.metallic = 0;
  material.roughness = 1;
  return material;
}

/**
 * Page coordinates (CSS pixels) of points of a face quad given as fractions of its width (left to right) and height
 * (top to bottom), projected with the scene's camera.
 */
function ScreenPoints(mesh: Mesh, scene: Scene, canvas: HTMLCanvasElement, points: readonly (readonly [number, number])[]): [number, number][] {
  const engine = scene.getEngine();
  const viewport = scene.activeCamera!.viewport.toGlobal(engine.getRenderWidth(), engine.getRenderHeight());
  const transform = scene.getTransformMatrix();
  const world = mesh.computeWorldMatrix(true);
  const { minimum, maximum } = mesh.getBoundingInfo().boundingBox;
  const box = canvas.getBoundingClientRect();
  // Render pixels -> CSS pixels (the engine may render at another size than the canvas is shown).
  const sx = box.width / engine.getRenderWidth();
  const sy = box.height / engine.getRenderHeight();
  return points.map(([fx, fy]) => {
    const local = new Vector3(minimum.x + fx * (maximum.x - minimum.x), maximum.y - fy * (maximum.y - minimum.y), 0);
    const screen = Vector3.Project(Vector3.TransformCoordinates(local, world), Matrix.IdentityReadOnly, transform, viewport);
    return [box.left + window.scrollX + screen.x * sx, box.top + window.scrollY + screen.y * sy];
  });
}

/** Distinct, stable seeds spread over the 32-bit range (a multiplicative hash of the index). */
function NpcSeed(index: number): number {
  return Math.imul(index + 1, 0x9e3779b1) >>> 0;
}

function HasGeneratedTexture(npc: Npc, faces: NpcFaceSystem): boolean {
  const texture = npc.plugin.texture;
  return npc.plugin.face !== undefined && texture !== null && texture !== faces.fallbackTexture && texture.isReady() && !npc.plugin.isGenerating;
}

function ApplyChanges(plugin: NpcFaceMaterialPlugin, changes: NpcParameterChanges): void {
  if (changes.seed !== undefined) plugin.seed = changes.seed;
  if (changes.mixSeed !== undefined) plugin.mixSeed = changes.mixSeed;
  if (changes.mix !== undefined) plugin.mix = changes.mix;
  if (changes.psi !== undefined) plugin.psi = changes.psi;
  if (changes.noiseStrength !== undefined) plugin.noiseStrength = changes.noiseStrength;
  for (const [name, value] of Object.entries(changes.controls ?? {})) plugin.setControl(name, value);
}

/** Resolves when the plugin has no generation scheduled or running; rejects with its error if it failed. */
async function WaitForFaceAsync(plugin: NpcFaceMaterialPlugin): Promise<void> {
  await plugin.whenSettledAsync();
  if (plugin.lastError) throw new Error(`${plugin.lastError.code}: ${plugin.lastError.message}`);
}

async function ReadTexturePixelsAsync(npc: Npc, faces: NpcFaceSystem): Promise<{ width: number; height: number; base64: string }> {
  const texture = npc.plugin.texture;
  if (!texture || texture === faces.fallbackTexture) throw new Error(`NPC ${npc.index} shows no generated face`);
  const { width, height } = texture.getSize();
  // From the GPU texture itself (not the CPU copy): level 0, no float conversion.
  const pixels = await texture.readPixels(0, 0, null, true, true);
  if (!pixels) throw new Error(`NPC ${npc.index}: the texture cannot be read back`);
  const bytes = new Uint8Array(pixels.buffer, pixels.byteOffset, width * height * 4);
  // The plugin uploads the bottom row first (v = 1 is the face's top); the runtime's images are top row first.
  const row = width * 4;
  const topFirst = new Uint8Array(bytes.length);
  for (let y = 0; y < height; y++) topFirst.set(bytes.subarray(y * row, (y + 1) * row), (height - 1 - y) * row);
  let binary = "";
  for (let i = 0; i < topFirst.length; i += 0x8000) binary += String.fromCharCode(...topFirst.subarray(i, i + 0x8000));
  return { width, height, base64: btoa(binary) };
}

/** The DOM panel: the selected NPC's seed, mixing, truncation, noise and one slider per model control. */
function CreatePanel(npcs: readonly Npc[], controls: readonly ModelControl[], onSelect: (npc: Npc) => void): { select(index: number): void; refresh(): void } {
  const container = document.getElementById("controls")!;
  const npcInput = document.getElementById("npc") as HTMLInputElement;
  npcInput.max = String(npcs.length - 1);
  let selected = 0;
  const current = (): NpcFaceMaterialPlugin => npcs[selected].plugin;
  const refreshers: (() => void)[] = [];

  const addNumber = (label: string, get: () => number, set: (value: number) => void): void => {
    const wrapper = document.createElement("label");
    wrapper.innerHTML = `<span class="name"></span>`;
    wrapper.querySelector("span")!.textContent = label;
    const input = document.createElement("input");
    input.type = "number";
    input.min = "0";
    input.max = "4294967295";
    input.step = "1";
    input.dataset.param = label;
    input.addEventListener("change", () => {
      const value = Number(input.value);
      if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) set(value);
      else input.value = String(get());
    });
    wrapper.append(input);
    container.append(wrapper);
    refreshers.push(() => (input.value = String(get())));
  };
  const addSlider = (label: string, param: string, min: number, max: number, step: number, get: () => number, set: (value: number) => void): void => {
    const wrapper = document.createElement("label");
    wrapper.innerHTML = `<span class="name"></span>`;
    wrapper.querySelector("span")!.textContent = label;
    const input = document.createElement("input");
    input.type = "range";
    input.min = String(min);
    input.max = String(max);
    input.step = String(step);
    input.dataset.param = param;
    const output = document.createElement("output");
    input.addEventListener("input", () => {
      set(Number(input.value));
      output.textContent = Number(input.value).toFixed(2);
    });
    wrapper.append(input, output);
    container.append(wrapper);
    refreshers.push(() => {
      input.value = String(get());
      output.textContent = get().toFixed(2);
    });
  };

  addNumber("seed", () => current().seed, (v) => (current().seed = v));
  addSlider("psi (truncation)", "psi", 0, 1.5, 0.01, () => current().psi, (v) => (current().psi = v));
  addNumber("mix seed", () => current().mixSeed, (v) => (current().mixSeed = v));
  addSlider("mix", "mix", 0, 1, 0.01, () => current().mix, (v) => (current().mix = v));
  addSlider("noise strength", "noiseStrength", 0, 2, 0.01, () => current().noiseStrength, (v) => (current().noiseStrength = v));
  for (const control of controls) {
    const step = (control.max - control.min) / 100;
    addSlider(control.label || control.name, `control_${control.name}`, control.min, control.max, step, () => current().getControl(control.name), (v) => current().setControl(control.name, v));
  }

  const refresh = (): void => {
    npcInput.value = String(selected);
    for (const r of refreshers) r();
  };
  const select = (index: number): void => {
    selected = Math.max(0, Math.min(npcs.length - 1, Math.trunc(index)));
    onSelect(npcs[selected]);
    refresh();
  };
  npcInput.addEventListener("change", () => select(Number(npcInput.value) || 0));
  select(0);
  return { select, refresh };
}

MainAsync().catch((error: unknown) => Fail(error instanceof Error ? error.message : String(error)));
