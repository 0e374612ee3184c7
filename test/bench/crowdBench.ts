/**
 * Crowd benchmark (issue 17): 1,000 NPCs of the crowd sample in headless Chromium, one material per NPC
 * (`NpcFaceMaterialPlugin`, `mode=material`) against one crowd (`NpcFaceCrowd`: a texture array and thin instances,
 * `mode=crowd`), on Babylon's WebGL2 and WebGPU engines. Per configuration: draw calls per frame (goal for the crowd:
 * at most 10 for the whole scene), `scene.render()` time once every face is shown, the time from scene creation until
 * all faces are shown (`scene.whenReadyAsync()`), and the GPU memory of the face textures (RGBA8 with mipmaps).
 */
import { performance } from "node:perf_hooks";
import { ChromiumPath, LaunchChromiumAsync } from "../e2e/browser.js";
import { OpenCrowdPageAsync, type CrowdWindow } from "../e2e/crowdPage.js";
import { StartCrowdSampleAsync } from "../e2e/sampleServer.js";
import { FormatTable } from "./benchUtil.js";

/** NPCs per page (the figure). */
const NpcCount = Number(process.env.NPC_FACES_CROWD_BENCH_COUNT ?? 1000);
/** Frames measured once the faces are shown. */
const Frames = 20;

interface CrowdConfig {
  readonly engine: "webgl2" | "webgpu";
  readonly mode: "material" | "crowd";
}

/** NPC_FACES_CROWD_BENCH_CONFIGS=webgpu-crowd,webgl2-material picks configurations (default: all four). */
const Configs: readonly CrowdConfig[] = (
  [
    { engine: "webgl2", mode: "material" },
    { engine: "webgl2", mode: "crowd" },
    { engine: "webgpu", mode: "material" },
    { engine: "webgpu", mode: "crowd" },
  ] as const
).filter((c) => !process.env.NPC_FACES_CROWD_BENCH_CONFIGS || process.env.NPC_FACES_CROWD_BENCH_CONFIGS.split(",").includes(`${c.engine}-${c.mode}`));

/** Runs the crowd section of `npm run bench` and returns its lines. */
export async function RunCrowdBenchAsync(): Promise<string[]> {
  const lines: string[] = [];
  const sample = await StartCrowdSampleAsync();
  const browser = await LaunchChromiumAsync({ viewport: { width: 960, height: 600 } });
  const rows: (string | number)[][] = [];
  const failures: string[] = [];
  const { loadavg } = await import("node:os");
  const loadBefore = loadavg()[0];
  try {
    for (const config of Configs) {
      const started = performance.now();
      try {
        // Face cards (heads=0), as in the figures measured before the sample had heads.
        const crowd = await OpenCrowdPageAsync(browser.context, sample.pageUrl(config.engine, { mode: config.mode, count: String(NpcCount), heads: "0" }), { timeoutMs: 900_000 });
        try {
          const result = await crowd.page.evaluate(async (frames) => {
            const hook = (globalThis as unknown as CrowdWindow).npcFacesTest;
            const measured = await hook.measureFramesAsync(frames);
            return { ...measured, timings: hook.timings, ready: hook.readyAtWhenReady, bytes: hook.faceTextureBytes(), capacity: hook.crowdCapacity, crowds: hook.crowdCount, faces: hook.faceCount };
          }, Frames);
          rows.push([
            `${config.engine}, ${config.mode === "crowd" ? "crowd (texture array, thin instances)" : "one material per NPC"}`,
            `${result.ready.ready}/${result.faces}`,
            result.drawCalls,
            Number(result.meanMs.toFixed(1)),
            Number(result.medianMs.toFixed(1)),
            Number(((result.timings.ready - result.timings.sceneCreated) / 1000).toFixed(1)),
            Number(((result.timings.ready - result.timings.modelLoaded) / 1000).toFixed(1)),
            Number((result.bytes / 2 ** 20).toFixed(1)),
            config.mode === "crowd" ? `${result.capacity} (${result.crowds})` : "",
          ]);
        } finally {
          await crowd.closeAsync();
        }
      } catch (error) {
        failures.push(`${config.engine} ${config.mode}: FAILED after ${((performance.now() - started) / 1000).toFixed(0)} s: ${(error as Error).message.split("\n")[0].slice(0, 400)}`);
      }
    }
  } finally {
    await browser.closeAsync();
    await sample.server.closeAsync();
  }
  lines.push(
    `Chromium ${ChromiumPath} headless (SwiftShader: software WebGL2/WebGPU on the CPU), crowd sample with ${NpcCount} NPCs, model ${sample.model.displayPath} ` +
      `(${sample.model.metadata.resolution}x${sample.model.metadata.resolution}), onnxruntime-web WASM, 1 thread, in the plugin's worker. Load average before: ${loadBefore.toFixed(1)}, after: ${loadavg()[0].toFixed(1)}.`,
  );
  lines.push(
    ...FormatTable([
      ["configuration", "faces at whenReady", "draw calls/frame", "frame ms (mean)", "frame ms (median)", "all faces shown s", "of it after model s", "face textures MiB", "layers (crowds)"],
      ...rows,
    ]),
  );
  lines.push(
    `  (draw calls and frame = one scene.render() over ${Frames} frames after whenReadyAsync, the whole scene: ground, bodies, heads, faces, ring; ` +
      "face textures = RGBA8 + mip chain: the crowd's whole texture array (its layers), or the distinct per-material textures)",
  );
  lines.push(...failures);
  return lines;
}

/** `node test/dist/bench/crowdBench.js`: this section alone. */
if (process.argv[1]?.endsWith("crowdBench.js")) {
  const started = performance.now();
  for (const line of await RunCrowdBenchAsync()) console.log(line);
  console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
