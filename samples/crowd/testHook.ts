/**
 * The crowd page's automation interface, `window.npcFacesTest` (DOM-free, so Node-side tests and benchmarks can
 * import the types).
 */
import type { FaceRequest } from "@npc-faces/runtime";

/** What the server says about the model (`/sample-config.json`, see samples/server.ts). */
export interface SampleConfig {
  /** null: the bundled default model (the plugin's default `modelUrl` once `@npc-faces/babylon/defaultModel` is imported). */
  readonly modelUrl: string | null;
  readonly modelName: string;
  readonly modelPath: string;
  readonly trained: boolean;
  readonly origin: string;
}

/** One long main-thread task (PerformanceObserver "longtask"), times in ms since navigation start. */
export interface LongTask {
  readonly startTime: number;
  readonly duration: number;
}

/** Parameters the panel and the test hook change. */
export interface NpcParameterChanges {
  seed?: number;
  mixSeed?: number;
  mix?: number;
  psi?: number;
  noiseStrength?: number;
  controls?: Record<string, number>;
}

/** `window.npcFacesTest`: hooks for the end-to-end tests and the browser bench. */
export interface NpcFacesTestHook {
  readonly engine: "webgl2" | "webgpu";
  /** The faces' material: StandardMaterial or PBRMaterial (`material=pbr`). */
  readonly material: "standard" | "pbr";
  /** Babylon's class name of NPC `index`'s material ("StandardMaterial", "PBRMaterial"). */
  materialClassOf(index: number): string;
  /** The inference backend the worker uses, e.g. `onnxruntime-web/wasm`. */
  readonly backendName: string;
  /** onnxruntime-web's WASM threads (the `threads` query, else its default for this page). */
  readonly threads: number;
  /** Babylon's engine description, e.g. "WebGL2" or "WebGPU". */
  readonly engineDescription: string;
  readonly crossOriginIsolated: boolean;
  readonly faceCount: number;
  readonly config: SampleConfig;
  /** Measured when `scene.whenReadyAsync()` resolved: how many NPCs had their generated face texture, ready. */
  readonly readyAtWhenReady: { readonly ready: number; readonly total: number; readonly notReady: readonly number[] };
  /** ms since navigation start: scene created, model loaded (`CreateAsync` resolved), all faces ready. */
  readonly timings: { readonly sceneCreated: number; readonly modelLoaded: number; readonly ready: number };
  /**
   * The face system's load steps (`NpcFaceSystem.loadTimings`: started, workerStarted, engineReady, modelFetched,
   * modelChecked, sessionCreated, modelLoaded, firstFace), ms since navigation start like {@link timings}.
   */
  readonly loadTimings: Readonly<Record<string, number | undefined>>;
  /** The face client's counters (`client.stats`: requests, generated, messages, workerMs, ...). */
  clientStats(): Readonly<Record<string, number>>;
  /** Every long task seen so far. */
  readonly longTasks: readonly LongTask[];
  /** Frames whose `scene.render()` took over 16 ms (start, duration), for telling rendering from other work. */
  readonly slowFrames: readonly LongTask[];
  /** When each generated face was applied (ms since navigation start). */
  readonly faceTimes: readonly number[];
  /** The face request NPC `index` shows now. */
  requestOf(index: number): FaceRequest;
  /** NPC `index`'s texture read back from the GPU, rows reordered top row first (like the runtime): base64 RGBA8. */
  readTexturePixelsAsync(index: number): Promise<{ width: number; height: number; base64: string }>;
  /**
   * Where points of NPC `index`'s face quad are on the page, in CSS pixels: each point is [fraction of the width from
   * the left, fraction of the height from the top] (for checking the rendered face against its texture).
   */
  faceScreenPoints(index: number, points: readonly (readonly [number, number])[]): [number, number][];
  /** Resolves when NPC `index` has no generation scheduled or running (e.g. after a panel change). */
  whenSettledAsync(index: number): Promise<void>;
  /** Changes NPC `index`'s parameters and resolves when its new face is applied. */
  setParametersAsync(index: number, changes: NpcParameterChanges): Promise<void>;
  /** Pauses or resumes rendering (the bench measures generation with and without frames competing for the CPU). */
  setRendering(on: boolean): void;
  /** Gives every NPC the seed `firstSeed + i` and resolves with the ms until all new faces are applied. */
  regenerateAllAsync(firstSeed: number): Promise<number>;
  /** `material`: one NpcFaceMaterialPlugin per NPC; `crowd`: one NpcFaceCrowd (texture array, thin instances). */
  readonly mode: "material" | "crowd";
  /** Waits for `count` rendered frames: their mean and median `scene.render()` ms and the most draw calls in one. */
  measureFramesAsync(count: number): Promise<{ frames: number; meanMs: number; medianMs: number; drawCalls: number }>;
  /** GPU bytes of the face textures (with mipmaps): the crowd's array, or the distinct per-material textures. */
  faceTextureBytes(): number;
  /** Whether NPC `index`'s face texture (crowd mode: its crowd's texture array) has an sRGB format (the GPU decodes it). */
  faceTextureIsSrgb(index: number): boolean;
  /** Crowd mode: how many crowds (one texture array and one draw call each; WebGPU allows 256 layers per array). */
  readonly crowdCount: number;
  /** Crowd mode: layers of the crowds' texture arrays (0 in material mode). */
  readonly crowdCapacity: number;
  /** Crowd mode: the texture-array layer NPC `index` shows (-1: none); -1 in material mode. */
  crowdLayerOf(index: number): number;
  /**
   * Renders NPC `index`'s face quad filling the canvas (orthographic, unlit, nearest sampling) and samples the canvas
   * at each face texel's centre: what the instance really shows, top row first, RGBA8 base64. `halfExtent` (default
   * 0.31, a face quad's half size): the half width of the square around the face's centre that is rendered, in scene
   * units (0.42 holds a head's width), still sampled face-texture size by size.
   */
  probeFaceAsync(index: number, halfExtent?: number): Promise<{ width: number; height: number; base64: string }>;
  /**
   * Heads (not `heads=0`): the head mesh (positions relative to its centre, normals, UVs, triangles) and its centre
   * relative to the probe's centre, in scene units; undefined otherwise.
   */
  headGeometry(): { positions: number[]; normals: number[]; uvs: number[]; indices: number[]; centreOffset: [number, number, number] } | undefined;
}
