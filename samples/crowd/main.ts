/**
 * The crowd sample: 64 NPCs, each with its own seed, whose faces the npc-faces plugin generates at load time in a
 * Web Worker; a panel edits one NPC's parameters live.
 *
 * URL query: `engine=webgl2|webgpu` (Babylon engine, default webgl2), `material=standard|pbr` (material mode: the
 * faces' material), `ep=wasm|webgpu` (onnxruntime-web provider,
 * default wasm: the canonical engine, the same bytes on every machine), `count=N` (NPCs, default 64, at most 1024), `threads=N`
 * (WASM threads, default 1: the canonical engine; more are faster but "close, not exact", see docs/seeds.md),
 * `mode=material|crowd`: one material per NPC (`NpcFaceMaterialPlugin`, default) or the whole crowd in one material and
 * one draw call (`NpcFaceCrowd`: faces in the layers of a texture array, one thin instance per NPC). Each NPC's head
 * is the plugin's procedural head (`CreateNpcHead`), the face composed onto its front and the rest in the face's own
 * skin tone (`NpcHeadComposition`); `heads=0`: a face card in front of a sphere instead. `gltf=1` (material mode,
 * cards): the first NPCs' face quads are those of `npcFaces.gltf` (plugin/examples: quads whose glTF materials carry
 * the `NPC_faces` extension), loaded with Babylon's glTF loader and `@npc-faces/babylon/gltf`.
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
import { Vector2, Vector3 } from "@babylonjs/core/Maths/math.vector.js";
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
import { CreateNpcHead, NpcFaceCrowd, NpcFaceCrowdMaterialPlugin, NpcFaceMaterialPlugin, NpcFaceSystem, NpcHeadComposition, type NpcFaceCrowdMember, type NpcFaceSystemOptions } from "@npc-faces/babylon";
import { Matrix } from "@babylonjs/core/Maths/math.vector.js";
import { PerfCounter } from "@babylonjs/core/Misc/perfCounter.js";
import { RenderTargetTexture } from "@babylonjs/core/Materials/Textures/renderTargetTexture.js";
import { Constants } from "@babylonjs/core/Engines/constants.js";
import "@babylonjs/core/Meshes/thinInstanceMesh.js";
// Opt-in: systems without modelUrl use the bundled default model (the build copies default.onnx next to main.js).
import "@npc-faces/babylon/defaultModel";
import { LoadAssetContainerAsync } from "@babylonjs/core/Loading/sceneLoader.js";
import type { AbstractMesh } from "@babylonjs/core/Meshes/abstractMesh.js";
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
// `material=pbr`: the faces on PBRMaterial (metallic 0, roughness 1) instead of StandardMaterial (material mode).
const materialKind = query.get("material") === "pbr" ? "pbr" : "standard";
const executionProvider = query.get("ep") === "webgpu" ? "webgpu" : "wasm";
const npcCount = Math.max(1, Math.min(1024, Number(query.get("count") ?? 64) || 64));
const crowdMode = query.get("mode") === "crowd";
// Each NPC's head is a procedural head whose front receives the face (a face rectangle with a soft elliptical mask),
// the rest of the head in the face's own skin tone; `heads=0`: a face card in front of a sphere (the pixel tests'
// layout: the card shows the whole face texture), as `gltf=1` (the file's face quads).
const gltfMode = query.get("gltf") === "1" && !crowdMode;
const headsMode = query.get("heads") !== "0" && !gltfMode;
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

/** What the panel and the hooks edit: a material plugin, or a crowd member (through {@link CrowdFace}). */
interface FaceParameters {
  seed: number;
  mixSeed: number;
  mix: number;
  psi: number;
  noiseStrength: number;
  readonly request: import("@npc-faces/runtime").FaceRequest;
  getControl(name: string): number;
  setControl(name: string, value: number): void;
  whenSettledAsync(): Promise<void>;
  readonly lastError: { code: string; message: string } | undefined;
  readonly hasFace: boolean;
}

interface Npc {
  readonly index: number;
  readonly plugin: FaceParameters;
  /** Where the face is drawn (for the selection marker and the pixel probe). */
  readonly position: Vector3;
  /** Per-material mode only. */
  readonly materialPlugin?: NpcFaceMaterialPlugin;
  readonly material?: StandardMaterial | PBRMaterial;
  readonly faceMesh?: Mesh;
  /** Crowd mode only. */
  readonly group?: SampleCrowd;
  readonly member?: NpcFaceCrowdMember;
}

/** Crowd mode: one crowd, its material and its thin-instanced heads (`heads=0`: face quads). */
interface SampleCrowd {
  readonly crowd: NpcFaceCrowd;
  readonly material: StandardMaterial;
  readonly mesh: Mesh;
}

/** A crowd member seen through the plugin's parameter API (defaults of the model where the member has none). */
function CrowdFace(member: NpcFaceCrowdMember, crowd: NpcFaceCrowd, faces: () => NpcFaceSystem | undefined): FaceParameters {
  let lastError: { code: string; message: string } | undefined;
  crowd.onErrorObservable.add((e) => {
    if (e.message.includes(`NPC "${member.name}"`)) lastError = e;
  });
  return {
    get seed() { return member.seed; },
    set seed(v) { lastError = undefined; member.seed = v; },
    get mixSeed() { return member.mixSeed; },
    set mixSeed(v) { member.mixSeed = v; },
    get mix() { return member.mix; },
    set mix(v) { member.mix = v; },
    get psi() { return member.psi ?? faces()?.metadata?.defaults.psi ?? 1; },
    set psi(v) { member.psi = v; },
    get noiseStrength() { return member.noiseStrength ?? faces()?.metadata?.defaults.noiseStrength ?? 1; },
    set noiseStrength(v) { member.noiseStrength = v; },
    get request() { return member.request; },
    getControl: (name) => member.getControl(name) ?? faces()?.controls.find((c) => c.name === name)?.default ?? 0,
    setControl: (name, value) => member.setControl(name, value),
    whenSettledAsync: () => crowd.whenSettledAsync(),
    get lastError() { return lastError; },
    get hasFace() { return member.layer >= 0; },
  };
}

/** A material plugin as {@link FaceParameters}. */
function PluginFace(plugin: NpcFaceMaterialPlugin): FaceParameters {
  return {
    get seed() { return plugin.seed; },
    set seed(v) { plugin.seed = v; },
    get mixSeed() { return plugin.mixSeed; },
    set mixSeed(v) { plugin.mixSeed = v; },
    get mix() { return plugin.mix; },
    set mix(v) { plugin.mix = v; },
    get psi() { return plugin.psi; },
    set psi(v) { plugin.psi = v; },
    get noiseStrength() { return plugin.noiseStrength; },
    set noiseStrength(v) { plugin.noiseStrength = v; },
    get request() { return plugin.request; },
    getControl: (name) => plugin.getControl(name),
    setControl: (name, value) => plugin.setControl(name, value),
    whenSettledAsync: () => plugin.whenSettledAsync(),
    get lastError() { return plugin.lastError; },
    get hasFace() { return plugin.face !== undefined; },
  };
}

// Before anything else (the page's first await): the face worker starts, and compiles onnxruntime-web's WASM, while
// the main thread fetches the config and builds the engine and the scene (a worker starts only when the main thread is
// free: created after the scene, it would start after the first frames). The model is known after the config: the
// system loads it.
const preload = NpcFaceSystem.Preload({ ...WorkerOptions(), loadModel: false });

/** The face system's worker options (the model comes from the config). */
function WorkerOptions(): NpcFaceSystemOptions {
  return {
    workerUrl: new URL("./faceWorker.js", location.href).href,
    wasmPaths: new URL("./ort/", location.href).href,
    executionProvider,
    ...(numThreads !== undefined ? { numThreads } : {}),
  };
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

  let firstError: string | undefined;
  const faceOptions: NpcFaceSystemOptions = {
    // No modelUrl: the bundled default model, opted in above (the build copies it next to main.js).
    ...(config.modelUrl !== null ? { modelUrl: config.modelUrl } : {}),
    ...WorkerOptions(),
  };

  const canvas = document.getElementById("renderCanvas") as HTMLCanvasElement;
  const engine = await CreateEngineAsync(canvas);
  const scene = new Scene(engine);
  const sceneCreated = performance.now();
  scene.clearColor = new Color4(0.11, 0.12, 0.15, 1);

  // The crowd stands on a square grid facing the camera (-z). A head's centre: its chin just above the body.
  const headY = headsMode ? 1.1 + HeadSize / 2 + 0.03 : 1.45;
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
  // Heads in material mode: one procedural head whose clones (sharing its geometry) each carry an NPC's material.
  const faceHeadTemplate = headsMode && !crowdMode ? CreateNpcHead("faceHead", { size: HeadSize }, scene) : undefined;
  if (faceHeadTemplate) faceHeadTemplate.isVisible = false;
  // A ring at the feet of the NPC the panel edits (created now: its shader compiles before generation starts).
  const marker = CreateTorus("selection", { diameter: 1.1, thickness: 0.08, tessellation: 24 }, scene);
  const markerMaterial = new StandardMaterial("selectionMaterial", scene);
  markerMaterial.emissiveColor = new Color3(1, 0.75, 0.2);
  markerMaterial.disableLighting = true;
  marker.material = markerMaterial;
  marker.isPickable = false;

  // Created before the materials (not awaited yet): each face plugin then binds the fallback texture from its first
  // frame, so the face shader compiles while the model loads rather than in the middle of generation.
  const facesPromise = NpcFaceSystem.CreateAsync(scene, {
    ...faceOptions,
    preload,
    onError: (event) => {
      firstError ??= `${event.code}: ${event.message}`;
      Fail(firstError);
    },
  });
  const npcs: Npc[] = [];
  // Crowd mode: every face quad is a thin instance of one plane with one material, its face a layer of the crowd's
  // texture array (one draw call for all faces).
  // One crowd holds at most the engine's texture-array layers (WebGPU: 256 by default, WebGL2 2048 here), less 16
  // spare layers (an edited NPC keeps its old face and layer until the new face is written into another): a bigger
  // crowd is split into several, one draw call each.
  const crowds: SampleCrowd[] = [];
  let system: NpcFaceSystem | undefined;
  const perCrowd = Math.max(1, (engine.getCaps().texture2DArrayMaxLayerCount ?? 256) - 16);
  if (crowdMode) {
    for (let k = 0; k * perCrowd < npcCount; k++) {
      const size = Math.min(perCrowd, npcCount - k * perCrowd);
      const crowd = new NpcFaceCrowd(scene, { name: `crowd${k}`, capacity: size + 16 });
      crowd.onFacesShownObservable.add((shown) => {
        const now = performance.now();
        for (let n = 0; n < shown.length; n++) faceTimes.push(now);
      });
      const material = new StandardMaterial(`crowd${k}Faces`, scene);
      material.specularColor = new Color3(0.05, 0.05, 0.05);
      const plugin = new NpcFaceCrowdMaterialPlugin(material, crowd);
      // Heads: each instance's face on the front of its head, the rest in that face's skin tone (read by the shader).
      if (headsMode) Object.assign(plugin, NpcHeadComposition);
      const mesh = headsMode ? CreateNpcHead(`crowd${k}Heads`, { size: HeadSize }, scene) : CreatePlane(`crowd${k}Quads`, { size: 0.62 }, scene);
      mesh.material = material;
      mesh.isPickable = false;
      crowds.push({ crowd, material, mesh });
    }
  }
  const gltfFaces = gltfMode ? await LoadGltfFacesAsync(scene) : [];
  for (let i = 0; i < npcCount; i++) {
    const x = ((i % columns) - (columns - 1) / 2) * spacing;
    const z = Math.floor(i / columns) * spacing;
    const body = bodyTemplate.createInstance(`body${i}`);
    body.position.set(x, 0.55, z);
    if (faceHeadTemplate) {
      npcs.push(CreateFaceHead(faceHeadTemplate, i, new Vector3(x, headY, z)));
      continue;
    }
    if (!headsMode) {
      const head = headTemplate.createInstance(`head${i}`);
      head.position.set(x, 1.45, z);
      head.metadata = { npc: i };
    }
    // The face: a quad just in front of the head (a plane's front side faces -z, towards the camera); with heads, the
    // front of the head.
    const position = new Vector3(x, headY, z - 0.41);
    if (crowdMode) {
      const group = crowds[Math.floor(i / perCrowd)];
      const last = i === npcCount - 1 || (i + 1) % perCrowd === 0;
      const instance = group.mesh.thinInstanceAdd(Matrix.Translation(x, headY, headsMode ? z : position.z), last);
      const member = group.crowd.add({ seed: NpcSeed(i), name: String(i) }).bindThinInstance(group.mesh, instance);
      npcs.push({ index: i, plugin: CrowdFace(member, group.crowd, () => system), position, group, member });
      continue;
    }
    if (i < gltfFaces.length) {
      const { mesh, plugin } = gltfFaces[i];
      // The file's 1x1 quad, the size of the sample's face quads, its front towards the camera (glTF's +z becomes -z
      // by the z mirror the glTF loader's root node applies, without the root's half turn).
      mesh.setParent(null);
      mesh.rotationQuaternion = null;
      mesh.rotation.setAll(0);
      mesh.scaling.set(0.62, 0.62, -0.62);
      mesh.position.copyFrom(position);
      mesh.metadata = { npc: i };
      plugin.onGeneratedObservable.add(() => faceTimes.push(performance.now()));
      const material = mesh.material as PBRMaterial;
      npcs.push({ index: i, plugin: PluginFace(plugin), position, materialPlugin: plugin, material, faceMesh: mesh as Mesh });
      continue;
    }
    const face = CreatePlane(`face${i}`, { size: 0.62 }, scene);
    face.position.copyFrom(position);
    face.metadata = { npc: i };
    const material = materialKind === "pbr" ? FacePbrMaterial(`npc${i}`, scene) : new StandardMaterial(`npc${i}`, scene);
    if (material instanceof StandardMaterial) material.specularColor = new Color3(0.05, 0.05, 0.05);
    const plugin = new NpcFaceMaterialPlugin(material);
    plugin.seed = NpcSeed(i);
    plugin.onGeneratedObservable.add(() => faceTimes.push(performance.now()));
    face.material = material;
    npcs.push({ index: i, plugin: PluginFace(plugin), position, materialPlugin: plugin, material, faceMesh: face });
  }

  let rendering = true;
  // Draw calls per frame: Babylon counts them in engine._drawCalls (created by its WebGPU engine, not by WebGL's).
  const counted = engine as unknown as { _drawCalls?: PerfCounter };
  counted._drawCalls ??= new PerfCounter();
  const frames: { duration: number; drawCalls: number }[] = [];
  engine.runRenderLoop(() => {
    if (!rendering) return;
    const start = performance.now();
    counted._drawCalls!.fetchNewFrame();
    scene.render();
    const duration = performance.now() - start;
    frames.push({ duration, drawCalls: counted._drawCalls!.current });
    if (frames.length > 600) frames.splice(0, frames.length - 300);
    if (duration > 16) slowFrames.push({ startTime: start, duration });
  });
  window.addEventListener("resize", () => engine.resize());
  SetStatus(`loading the model and generating ${npcCount} faces ...`);
  const faces = await facesPromise;
  system = faces;
  const modelLoaded = performance.now();
  if (faces.loadError) return Fail(`the model did not load: ${faces.loadError.message}`);

  await scene.whenReadyAsync();
  const ready = performance.now();
  // Checked right away, before any later frame could upload something.
  const notReady = npcs.filter((npc) => (npc.materialPlugin ? !HasGeneratedTexture(npc.materialPlugin, faces) : !npc.plugin.hasFace)).map((npc) => npc.index);
  const readyAtWhenReady = { ready: npcs.length - notReady.length, total: npcs.length, notReady };

  const panel = CreatePanel(npcs, faces.controls, (npc) => marker.position.set(npc.position.x, 0.04, npc.position.z + 0.41));
  scene.onPointerObservable.add((info) => {
    const npc = (info.pickInfo?.pickedMesh?.metadata as { npc?: number } | null)?.npc;
    if (info.type === PointerEventTypes.POINTERPICK && npc !== undefined) panel.select(npc);
  });

  window.npcFacesTest = {
    engine: engineName,
    backendName: faces.backendName ?? "unknown",
    threads: expectedThreads,
    engineDescription: engine.description,
    crossOriginIsolated,
    faceCount: npcs.length,
    config,
    readyAtWhenReady,
    timings: { sceneCreated, modelLoaded, ready },
    loadTimings: { ...faces.loadTimings },
    clientStats: () => ({ ...faces.client.stats }),
    longTasks,
    slowFrames,
    faceTimes,
    requestOf: (index) => npcs[index].plugin.request,
    readTexturePixelsAsync: (index) => ReadTexturePixelsAsync(npcs[index], faces),
    material: materialKind,
    materialClassOf: (index) => npcs[index].material?.getClassName() ?? "crowd",
    faceScreenPoints(index, points) {
      const mesh = npcs[index].faceMesh;
      if (!mesh || headsMode) throw new Error("faceScreenPoints: material mode with face cards (heads=0) only");
      return ScreenPoints(mesh, scene, canvas, points);
    },
    mode: crowdMode ? "crowd" : "material",
    async measureFramesAsync(count) {
      const first = frames.length;
      while (frames.length < first + count) await new Promise((resolve) => setTimeout(resolve, 20));
      const measured = frames.slice(first, first + count);
      const durations = measured.map((f) => f.duration).sort((a, b) => a - b);
      return { frames: measured.length, meanMs: durations.reduce((a, b) => a + b, 0) / durations.length, medianMs: durations[Math.floor(durations.length / 2)], drawCalls: Math.max(...measured.map((f) => f.drawCalls)) };
    },
    faceTextureBytes() {
      if (crowdMode) return crowds.reduce((sum, g) => sum + g.crowd.textureBytes, 0);
      // Distinct face textures (identical parameters share one), RGBA8, plus a third for the mip chain.
      const textures = new Set(npcs.map((n) => n.materialPlugin?.texture).filter((t) => t && t !== faces.fallbackTexture));
      let bytes = 0;
      for (const t of textures) bytes += t!.getSize().width * t!.getSize().height * 4 * (t!.noMipmap ? 1 : 4 / 3);
      return Math.round(bytes);
    },
    crowdCount: crowds.length,
    faceTextureIsSrgb: (index) => (npcs[index].materialPlugin?.texture ?? npcs[index].group?.crowd.texture)?.getInternalTexture()?._useSRGBBuffer === true,
    crowdCapacity: crowds.reduce((sum, g) => sum + g.crowd.capacity, 0),
    crowdLayerOf: (index) => npcs[index].member?.layer ?? -1,
    probeFaceAsync: (index, halfExtent) => ProbeFaceAsync(scene, npcs[index], halfExtent),
    headGeometry() {
      const head = faceHeadTemplate ?? (headsMode ? crowds[0].mesh : undefined);
      if (!head) return undefined;
      const data = (kind: string): number[] => Array.from(head.getVerticesData(kind)!);
      return { positions: data("position"), normals: data("normal"), uvs: data("uv"), indices: Array.from(head.getIndices()!), centreOffset: [0, 0, 0.41] };
    },
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

/** The heads' height, chin to crown. */
const HeadSize = 0.85;

/**
 * Heads in material mode: an NPC whose head (a clone of the procedural head) carries the face on its front, the rest
 * of the head in the face's own skin tone (the shader reads it from the face: `skinFromFace`).
 */
function CreateFaceHead(template: Mesh, index: number, centre: Vector3): Npc {
  const scene = template.getScene();
  const head = template.clone(`head${index}`)!;
  head.isVisible = true;
  head.position.copyFrom(centre);
  head.metadata = { npc: index };
  const material = materialKind === "pbr" ? FacePbrMaterial(`npc${index}`, scene) : new StandardMaterial(`npc${index}`, scene);
  if (material instanceof StandardMaterial) material.specularColor = new Color3(0.05, 0.05, 0.05);
  const plugin = new NpcFaceMaterialPlugin(material);
  Object.assign(plugin, NpcHeadComposition);
  plugin.seed = NpcSeed(index);
  plugin.onGeneratedObservable.add(() => faceTimes.push(performance.now()));
  head.material = material;
  return { index, plugin: PluginFace(plugin), position: new Vector3(centre.x, centre.y, centre.z - 0.41), materialPlugin: plugin, material, faceMesh: head };
}

/**
 * `gltf=1`: loads npcFaces.gltf (copied next to the page by the build) with Babylon's glTF loader and the NPC_faces
 * loader extension; the face quads of its materials, in file order, each with the face plugin the extension attached.
 */
async function LoadGltfFacesAsync(scene: Scene): Promise<{ mesh: AbstractMesh; plugin: NpcFaceMaterialPlugin }[]> {
  // Only this mode bundles the glTF loader's code paths it uses; the import registers the loader and the extension.
  await Promise.all([import("@babylonjs/loaders/glTF/glTFFileLoader.js"), import("@babylonjs/loaders/glTF/2.0/glTFLoader.js"), import("@npc-faces/babylon/gltf")]);
  const container = await LoadAssetContainerAsync("./npcFaces.gltf", scene);
  container.addAllToScene();
  const faces: { mesh: AbstractMesh; plugin: NpcFaceMaterialPlugin }[] = [];
  for (const mesh of container.meshes) {
    const plugin = mesh.material ? NpcFaceMaterialPlugin.Get(mesh.material) : undefined;
    if (plugin) faces.push({ mesh, plugin });
  }
  if (faces.length === 0) throw new Error("npcFaces.gltf: no material with the NPC_faces extension");
  return faces;
}

/** Distinct, stable seeds spread over the 32-bit range (a multiplicative hash of the index). */
function NpcSeed(index: number): number {
  return Math.imul(index + 1, 0x9e3779b1) >>> 0;
}

function HasGeneratedTexture(plugin: NpcFaceMaterialPlugin, faces: NpcFaceSystem): boolean {
  const texture = plugin.texture;
  return plugin.face !== undefined && texture !== null && texture !== faces.fallbackTexture && texture.isReady() && !plugin.isGenerating;
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

/**
 * Renders NPC `index`'s face quad filling the canvas (orthographic camera straight on, lighting off, nearest sampling)
 * and reads the canvas back: one texel per sample at the centre of each face texel, top row first, RGBA8 base64.
 * `halfExtent`: half the side of the square rendered around the face's centre (a larger one shows a whole head).
 */
async function ProbeFaceAsync(scene: Scene, npc: Npc, halfExtent = 0.31): Promise<{ width: number; height: number; base64: string }> {
  const crowd = npc.group?.crowd;
  const material = npc.group?.material ?? npc.material;
  const faceMesh = npc.group?.mesh ?? npc.faceMesh;
  if (!material || !faceMesh) throw new Error("no face material");
  const texture = crowd ? (crowd.texture ?? null) : npc.materialPlugin!.texture;
  if (!texture) throw new Error("no face texture");
  const size = texture.getSize().width;
  // Close to the quad: the NPCs of the rows in front must stay behind the camera.
  const camera = new ArcRotateCamera("probe", -Math.PI / 2, Math.PI / 2, 0.3, npc.position.clone(), scene);
  camera.mode = Constants.ORTHOGRAPHIC_CAMERA;
  camera.orthoLeft = -halfExtent;
  camera.orthoRight = halfExtent;
  camera.orthoTop = halfExtent;
  camera.orthoBottom = -halfExtent;
  camera.minZ = 0.01;
  // A render target rather than the canvas: WebGPU's canvas cannot be read back once the frame is presented.
  const pixelsPerSide = size * 4;
  const target = new RenderTargetTexture("probe", pixelsPerSide, scene, { generateMipMaps: false });
  target.activeCamera = camera;
  target.renderList = [faceMesh];
  target.clearColor = new Color4(0, 0, 0, 1);
  const saved = { disableLighting: material.disableLighting, emissive: material.emissiveColor.clone(), sampling: texture.samplingMode };
  material.disableLighting = true;
  material.emissiveColor = new Color3(1, 1, 1);
  // Nearest texels, mip levels kept: the heads' skin tone reads a coarse level of the face (skinFromFace).
  texture.updateSamplingMode(Constants.TEXTURE_NEAREST_NEAREST_MIPNEAREST);
  try {
    await scene.whenReadyAsync();
    while (!target.isReadyForRendering()) await new Promise((resolve) => setTimeout(resolve, 10));
    // The crowd sends new layers and per-instance values before each scene.render(); this render is not one.
    crowd?.flushUploads();
    target.render();
    const view = await target.readPixels();
    if (!view) throw new Error("the probe cannot be read back");
    const pixels = new Uint8Array(view.buffer, view.byteOffset, pixelsPerSide * pixelsPerSide * 4);
    // Render targets read back bottom row first on both engines; sample each texel's centre, top row first.
    const out = new Uint8Array(size * size * 4);
    for (let ty = 0; ty < size; ty++) {
      const y = (size - 1 - ty) * 4 + 2;
      for (let tx = 0; tx < size; tx++) {
        const x = tx * 4 + 2;
        out.set(pixels.subarray((y * pixelsPerSide + x) * 4, (y * pixelsPerSide + x) * 4 + 4), (ty * size + tx) * 4);
      }
    }
    let binary = "";
    for (let i = 0; i < out.length; i += 0x8000) binary += String.fromCharCode(...out.subarray(i, i + 0x8000));
    return { width: size, height: size, base64: btoa(binary) };
  } finally {
    target.dispose();
    camera.dispose();
    material.disableLighting = saved.disableLighting;
    material.emissiveColor = saved.emissive;
    texture.updateSamplingMode(saved.sampling);
  }
}

function ApplyChanges(plugin: FaceParameters, changes: NpcParameterChanges): void {
  if (changes.seed !== undefined) plugin.seed = changes.seed;
  if (changes.mixSeed !== undefined) plugin.mixSeed = changes.mixSeed;
  if (changes.mix !== undefined) plugin.mix = changes.mix;
  if (changes.psi !== undefined) plugin.psi = changes.psi;
  if (changes.noiseStrength !== undefined) plugin.noiseStrength = changes.noiseStrength;
  for (const [name, value] of Object.entries(changes.controls ?? {})) plugin.setControl(name, value);
}

/** Resolves when the plugin has no generation scheduled or running; rejects with its error if it failed. */
async function WaitForFaceAsync(plugin: FaceParameters): Promise<void> {
  await plugin.whenSettledAsync();
  if (plugin.lastError) throw new Error(`${plugin.lastError.code}: ${plugin.lastError.message}`);
}

async function ReadTexturePixelsAsync(npc: Npc, faces: NpcFaceSystem): Promise<{ width: number; height: number; base64: string }> {
  if (!npc.materialPlugin) throw new Error("crowd mode: the faces are layers of one texture array (use probeFaceAsync)");
  const texture = npc.materialPlugin.texture;
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
  const current = (): FaceParameters => npcs[selected].plugin;
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
