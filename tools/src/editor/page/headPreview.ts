/**
 * The 3D preview: a Babylon.js scene with a head whose material carries the plugin's {@link NpcFaceMaterialPlugin},
 * fed the face being edited through {@link ApplyManifestEntry} (the same helper a game uses on a manifest entry).
 * The scene's {@link NpcFaceSystem} owns the face worker; the grid and the other views share its client.
 */
import { Engine } from "@babylonjs/core/Engines/engine.js";
import { NullEngine } from "@babylonjs/core/Engines/nullEngine.js";
import type { AbstractEngine } from "@babylonjs/core/Engines/abstractEngine.js";
import { Scene } from "@babylonjs/core/scene.js";
import { ArcRotateCamera } from "@babylonjs/core/Cameras/arcRotateCamera.js";
import { HemisphericLight } from "@babylonjs/core/Lights/hemisphericLight.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { Color3, Color4 } from "@babylonjs/core/Maths/math.color.js";
import { Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { VertexBuffer } from "@babylonjs/core/Buffers/buffer.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import { CreateCylinder } from "@babylonjs/core/Meshes/Builders/cylinderBuilder.js";
import { ApplyManifestEntry, NpcFaceMaterialPlugin, NpcFaceSystem } from "@npc-faces/babylon";
import type { FaceParams } from "./editorApp.js";

/** The running preview. */
export interface HeadPreview {
  readonly system: NpcFaceSystem;
  readonly plugin: NpcFaceMaterialPlugin;
  /** Babylon's description of the engine, or why there is no 3D view. */
  readonly engineDescription: string;
  /** Puts `params` on the head (debounced regeneration by the plugin). */
  show(params: FaceParams): void;
}

/**
 * Starts the engine (WebGL2; without it a NullEngine keeps generation working and the canvas says so), the scene
 * and the face system, and loads the model into the face worker.
 */
export async function CreateHeadPreviewAsync(canvas: HTMLCanvasElement, model: Uint8Array, onError: (message: string) => void): Promise<HeadPreview> {
  let engine: AbstractEngine;
  let description: string;
  try {
    const gl = new Engine(canvas, true, { preserveDrawingBuffer: true, stencil: false });
    if (gl.webGLVersion < 2) throw new Error("WebGL2 is not available");
    engine = gl;
    description = gl.description;
  } catch (error) {
    engine = new NullEngine();
    description = `no 3D preview (${(error as Error).message})`;
  }
  const scene = new Scene(engine);
  scene.clearColor = new Color4(0.11, 0.12, 0.15, 1);
  const camera = new ArcRotateCamera("camera", -Math.PI / 2 - 0.35, 1.35, 3.1, new Vector3(0, 0.15, 0), scene);
  camera.lowerRadiusLimit = 1.8;
  camera.upperRadiusLimit = 6;
  camera.wheelPrecision = 40;
  camera.attachControl(canvas, true);
  const light = new HemisphericLight("light", new Vector3(0.4, 0.8, -1), scene);
  light.groundColor = new Color3(0.3, 0.3, 0.35);

  const system = await NpcFaceSystem.CreateAsync(scene, {
    modelBytes: model,
    source: "model.onnx",
    workerUrl: new URL("./faceWorker.js", location.href).href,
    wasmPaths: new URL("./ort/", location.href).href,
    onError: (event) => onError(`${event.code}: ${event.message}`),
  });
  if (system.loadError) throw new Error(`the model did not load: ${system.loadError.message}`);

  const head = CreateSphere("head", { diameter: 1.2, segments: 32 }, scene);
  head.scaling.y = 1.18;
  ProjectFrontUvs(head.getVerticesData(VertexBuffer.PositionKind)!, head, 1.2);
  const material = new StandardMaterial("face", scene);
  material.specularColor = new Color3(0.06, 0.06, 0.06);
  const plugin = new NpcFaceMaterialPlugin(material);
  head.material = material;
  const neck = CreateCylinder("neck", { height: 0.7, diameter: 0.55, tessellation: 24 }, scene);
  neck.position.y = -0.85;
  const skin = new StandardMaterial("neck", scene);
  skin.diffuseColor = new Color3(0.45, 0.36, 0.3);
  skin.specularColor = Color3.Black();
  neck.material = skin;

  engine.runRenderLoop(() => scene.render());
  window.addEventListener("resize", () => engine.resize());
  return {
    system,
    plugin,
    engineDescription: description,
    show(params) {
      ApplyManifestEntry(plugin, { id: "preview", name: "", ...params });
    },
  };
}

/** The face projected onto the head from the front (-z): u from x, v from y; the back shows the stretched edges. */
function ProjectFrontUvs(positions: ArrayLike<number>, mesh: { setVerticesData(kind: string, data: number[]): void }, diameter: number): void {
  const uvs: number[] = [];
  // Slightly larger than the head: the face covers the front, the edges fade into the sides.
  const size = diameter * 0.92;
  for (let i = 0; i < positions.length; i += 3) {
    uvs.push(Clamp01(0.5 + positions[i] / size), Clamp01(0.5 + positions[i + 1] / size));
  }
  mesh.setVerticesData(VertexBuffer.UVKind, uvs);
}

function Clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}
