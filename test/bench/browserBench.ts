/**
 * Browser benchmark (issues 6 and 16): the crowd sample in headless Chromium. Per configuration (Babylon engine, WASM
 * threads): the time from scene creation to all 64 faces ready (median of {@link LoadRuns} page loads) and where it
 * goes (the face system's load steps, `NpcFaceSystem.loadTimings`), faces/s while loading and when regenerating all 64
 * faces (with and without rendering), against FaceGenerator on onnxruntime-node on the same model in the same run,
 * and the longest main-thread task (PerformanceObserver "longtask") during loading and generation; the goals (issue 16):
 * 64 faces ready within 2.0 s of the scene's creation, model and session within 0.8 s, no task over 50 ms.
 */
import { performance } from "node:perf_hooks";
import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { FaceGenerator, type FaceRequest } from "@npc-faces/runtime";
import { LoadFaceGeneratorFileAsync } from "@npc-faces/runtime/node";
import { CreateWebBackend } from "@npc-faces/runtime/web";
import type { LongTask } from "@npc-faces/samples/crowd/testHook";
import { ChromiumPath, LaunchChromiumAsync } from "../e2e/browser.js";
import { OpenCrowdPageAsync, type CrowdWindow } from "../e2e/crowdPage.js";
import { StartCrowdSampleAsync } from "../e2e/sampleServer.js";
import { FormatTable, MedianMsAsync } from "./benchUtil.js";

/** A page configuration to measure. */
interface BrowserConfig {
  readonly label: string;
  readonly engine: "webgl2" | "webgpu";
  /** `threads` query of the page; absent: onnxruntime-web's default (half the cores when cross-origin isolated). */
  readonly threads?: number;
}

const Configs: readonly BrowserConfig[] = [
  { label: "WebGL2, default threads", engine: "webgl2" },
  { label: "WebGL2, 2 threads", engine: "webgl2", threads: 2 },
  { label: "WebGPU, default threads", engine: "webgpu" },
];

/** Long tasks over this many ms count against the goal. */
const LongTaskGoalMs = 50;

/** Page loads per configuration: the load figures are their medians (each load is a new page in the same browser). */
const LoadRuns = 3;

/** One page load's steps, in s after the scene's creation (`NpcFaceSystem.loadTimings` and the sample's timings). */
interface LoadSteps {
  /** The face system's preload (before the scene: negative). */
  readonly started: number;
  readonly workerStarted: number;
  readonly engineReady: number;
  readonly modelFetched: number;
  readonly sessionCreated: number;
  readonly modelLoaded: number;
  readonly firstFace: number;
  readonly ready: number;
  /** Worker ms per face over the load's faces (its session runs only). */
  readonly workerMsPerFace: number;
  /** Longest main-thread task and count over the goal: from the model being loaded to all faces ready ("load") ... */
  readonly loadLongest: number;
  readonly loadOverGoal: number;
  /** ... of those, tasks that overlap a slow `scene.render()` frame (software rendering, not generation work) ... */
  readonly loadOverGoalInFrames: number;
  /** ... and from the scene's creation to all faces ready (the sample's own set-up and first frame included). */
  readonly setupLongest: number;
  readonly setupOverGoal: number;
}

/** What one page load measured. */
interface BrowserRun {
  readonly config: BrowserConfig;
  readonly threads: number;
  readonly faces: number;
  /** Scene creation -> whenReadyAsync resolved (s), and the model-loading part of it: medians of the page loads. */
  readonly readyS: number;
  readonly modelS: number;
  /** Each page load's steps. */
  readonly loads: readonly LoadSteps[];
  /** Faces per second while loading (model loaded -> all ready) and when regenerating all, rendering on / off. */
  readonly loadFacesPerS: number;
  readonly regenFacesPerS: number;
  readonly regenNoRenderFacesPerS: number;
  /** Longest long task and count over the goal during the regeneration. */
  readonly regenLongest: number;
  readonly regenOverGoal: number;
}

/** Runs the browser section of `npm run bench` and returns its lines. */
export async function RunBrowserBenchAsync(): Promise<string[]> {
  const lines: string[] = [];
  const sample = await StartCrowdSampleAsync();
  const browser = await LaunchChromiumAsync({ viewport: { width: 960, height: 600 } });
  const runs: BrowserRun[] = [];
  const failures: string[] = [];
  let regenRequests: FaceRequest[] = [];
  try {
    for (const [i, config] of Configs.entries()) {
      try {
        // Face cards (heads=0), as in the figures measured before the sample had heads.
        const { run, requests } = await MeasureConfigAsync(browser.context, sample.pageUrl(config.engine, { heads: "0", ...(config.threads !== undefined ? { threads: String(config.threads) } : {}) }), config, 1_000_000 + i * 1000);
        runs.push(run);
        if (regenRequests.length === 0) regenRequests = requests;
      } catch (error) {
        failures.push(`${config.label}: FAILED: ${(error as Error).message.split("\n")[0]}`);
      }
    }
  } finally {
    await browser.closeAsync();
    await sample.server.closeAsync();
  }

  // The same model and the same kind of requests (64 fresh seeds, the model's defaults) on onnxruntime-node.
  const requests = regenRequests.length > 0 ? regenRequests : Array.from({ length: 64 }, (_, i) => ({ seed: 1_000_000 + i }));
  // Plus onnxruntime-web's WASM build in Node: the browser's engine without the browser, to tell WASM from page costs.
  const node: { label: string; facesPerS: number }[] = [];
  const modelBytes = await readFile(sample.model.path);
  const references: [string, () => Promise<FaceGenerator>][] = [
    ["onnxruntime-node, default threads", () => LoadFaceGeneratorFileAsync(sample.model.path, { engine: "native" })],
    ["onnxruntime-node, 1 thread", () => LoadFaceGeneratorFileAsync(sample.model.path, { engine: "native", intraOpNumThreads: 1 })],
    ["onnxruntime-web WASM in Node, 1 thread", () => FaceGenerator.loadAsync(modelBytes, { backend: CreateWebBackend({ numThreads: 1 }) })],
  ];
  for (const [label, load] of references) {
    const generator = await load();
    // Warm-up matters: the first run of a batch shape is several times slower (allocation planning).
    const ms = await MedianMsAsync(() => generator.generateAsync(requests), { warmup: 1, minRuns: 3, minMs: 0 });
    await generator.disposeAsync();
    node.push({ label, facesPerS: (requests.length * 1000) / ms });
  }
  const nodeBest = node[0].facesPerS;

  lines.push(
    `Chromium ${ChromiumPath} headless (SwiftShader for WebGL2 and WebGPU), crowd sample (${requests.length} NPCs), model ${sample.model.displayPath} ` +
      `("${sample.model.metadata.name}", ${sample.model.metadata.resolution}x${sample.model.metadata.resolution}${sample.model.trained ? "" : ", untrained"}), onnxruntime-web WASM provider in the plugin's Web Worker.`,
  );
  lines.push(
    `Load = scene creation -> scene.whenReadyAsync() (model fetch + session creation + 64 faces; the sample starts the face worker before the scene: NpcFaceSystem.Preload), median of ${LoadRuns} page loads. Regenerate = new seeds for all 64 NPCs until every new face is applied.`,
  );
  lines.push("");
  lines.push(
    ...FormatTable([
      ["configuration", "threads", "load s", "of it model s", "load faces/s", "regen faces/s", "regen faces/s, no rendering", "vs node"],
      ...runs.map((r) => [r.config.label, r.threads, r.readyS, r.modelS, r.loadFacesPerS, r.regenFacesPerS, r.regenNoRenderFacesPerS, `${(r.regenFacesPerS / nodeBest).toFixed(2)}x`]),
      ...node.map((n) => [n.label, "", "", "", "", n.facesPerS, "", n === node[0] ? "1x" : `${(n.facesPerS / nodeBest).toFixed(2)}x`]),
    ]),
  );
  lines.push("  (vs node = faces/s when regenerating with rendering on, over onnxruntime-node with default threads; same model file, same 64 requests)");
  lines.push("");
  lines.push(`Where the load goes (s after the scene's creation, medians of ${LoadRuns} page loads; NpcFaceSystem.loadTimings; goal: all ready <= 2.0, model loaded <= 0.8):`);
  const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const step = (r: BrowserRun, key: keyof LoadSteps): number => median(r.loads.map((l) => l[key]));
  lines.push(
    ...FormatTable([
      ["configuration", "preload", "worker ran", "engine ready", "model fetched", "session", "model loaded", "first face", "all ready", "ready each", "worker ms/face"],
      ...runs.map((r) => [
        r.config.label,
        step(r, "started"),
        step(r, "workerStarted"),
        step(r, "engineReady"),
        step(r, "modelFetched"),
        step(r, "sessionCreated"),
        step(r, "modelLoaded"),
        step(r, "firstFace"),
        step(r, "ready"),
        r.loads.map((l) => l.ready.toFixed(2)).join(" "),
        step(r, "workerMsPerFace"),
      ]),
    ]),
  );
  lines.push(
    "  (preload: NpcFaceSystem.Preload, before the page's first await; worker ran: its script evaluated; engine ready: onnxruntime-web's WASM fetched, compiled, started; session: the model's inference session created; model loaded: CreateAsync resolved on the main thread; worker ms/face: the worker's session runs over the 64 faces, first runs included)",
  );
  lines.push("");
  lines.push(`Longest main-thread task (PerformanceObserver "longtask"; goal: none over ${LongTaskGoalMs} ms):`);
  lines.push(
    ...FormatTable([
      ["configuration", "load: longest ms", `load: tasks > ${LongTaskGoalMs} ms`, "of them in a slow frame", "from scene: longest ms", `from scene: tasks > ${LongTaskGoalMs} ms`, "regen: longest ms", `regen: tasks > ${LongTaskGoalMs} ms`],
      ...runs.map((r) => {
        const max = (key: keyof LoadSteps): number => Math.max(...r.loads.map((l) => l[key]));
        const sum = (key: keyof LoadSteps): number => r.loads.reduce((total, l) => total + l[key], 0);
        return [r.config.label, max("loadLongest"), sum("loadOverGoal"), sum("loadOverGoalInFrames"), max("setupLongest"), sum("setupOverGoal"), r.regenLongest, r.regenOverGoal];
      }),
    ]),
  );
  lines.push(
    `  (over the ${LoadRuns} page loads: the longest, and the count; load = from the model being loaded to all faces ready; a slow frame is a scene.render() over 40 ms: software rendering on these 2 cores, not generation work; from scene = from the scene's creation to all faces ready, which adds the sample's own mesh and material creation and its first frame, compiling the shaders)`,
  );
  lines.push(...failures);
  return lines;
}

async function MeasureConfigAsync(
  context: Parameters<typeof OpenCrowdPageAsync>[0],
  url: string,
  config: BrowserConfig,
  firstSeed: number,
): Promise<{ run: BrowserRun; requests: FaceRequest[] }> {
  // Earlier page loads: their load steps only (each one a new page: a new worker, engine and session).
  const loads: LoadSteps[] = [];
  for (let i = 1; i < LoadRuns; i++) {
    const earlier = await OpenCrowdPageAsync(context, url, { timeoutMs: 180_000 });
    try {
      loads.push(await LoadStepsAsync(earlier.page));
    } finally {
      await earlier.closeAsync();
    }
  }
  const crowd = await OpenCrowdPageAsync(context, url, { timeoutMs: 180_000 });
  try {
    const { page } = crowd;
    loads.push(await LoadStepsAsync(page));
    const loaded = await page.evaluate(() => {
      const hook = (globalThis as unknown as CrowdWindow).npcFacesTest;
      return { faces: hook.faceCount, threads: hook.threads };
    });
    const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

    const regen = await page.evaluate(async (seed) => {
      const hook = (globalThis as unknown as CrowdWindow).npcFacesTest;
      const before = hook.longTasks.length;
      const ms = await hook.regenerateAllAsync(seed);
      const tasks = hook.longTasks.slice(before);
      hook.setRendering(false);
      const msNoRender = await hook.regenerateAllAsync(seed + hook.faceCount);
      hook.setRendering(true);
      // The requests of the first regeneration, as the page made them, for the node comparison.
      const requests = Array.from({ length: hook.faceCount }, (_, i) => ({ ...hook.requestOf(i), seed: (seed + i) >>> 0 }));
      return { ms, msNoRender, tasks, requests };
    }, firstSeed);
    const longest = (tasks: readonly LongTask[]): number => Math.round(Math.max(0, ...tasks.map((t) => t.duration)));
    const run: BrowserRun = {
      config,
      threads: loaded.threads,
      faces: loaded.faces,
      readyS: median(loads.map((l) => l.ready)),
      modelS: median(loads.map((l) => l.modelLoaded)),
      loads,
      loadFacesPerS: median(loads.map((l) => loaded.faces / (l.ready - l.modelLoaded))),
      regenFacesPerS: (loaded.faces * 1000) / regen.ms,
      regenNoRenderFacesPerS: (loaded.faces * 1000) / regen.msNoRender,
      regenLongest: longest(regen.tasks),
      regenOverGoal: regen.tasks.filter((t) => t.duration > LongTaskGoalMs).length,
    };
    return { run, requests: regen.requests };
  } finally {
    await crowd.closeAsync();
  }
}

/** A loaded crowd page's load steps (s after the scene's creation). */
async function LoadStepsAsync(page: Page): Promise<LoadSteps> {
  const raw = await page.evaluate(() => {
    const hook = (globalThis as unknown as CrowdWindow).npcFacesTest;
    return { timings: hook.timings, steps: hook.loadTimings, stats: hook.clientStats(), longTasks: [...hook.longTasks], slowFrames: [...hook.slowFrames] };
  });
  const { timings } = raw;
  const at = (ms: number | undefined): number => (ms === undefined ? Number.NaN : (ms - timings.sceneCreated) / 1000);
  const longest = (tasks: readonly LongTask[]): number => Math.round(Math.max(0, ...tasks.map((t) => t.duration)));
  const setupTasks = Within(raw.longTasks, timings.sceneCreated, timings.ready);
  const loadTasks = Within(raw.longTasks, timings.modelLoaded, timings.ready);
  const overGoal = loadTasks.filter((t) => t.duration > LongTaskGoalMs);
  const slowFrames = raw.slowFrames.filter((f) => f.duration > 40);
  return {
    started: at(raw.steps.started),
    workerStarted: at(raw.steps.workerStarted),
    engineReady: at(raw.steps.engineReady),
    modelFetched: at(raw.steps.modelFetched),
    sessionCreated: at(raw.steps.sessionCreated),
    modelLoaded: at(raw.timings.modelLoaded),
    firstFace: at(raw.steps.firstFace),
    ready: at(raw.timings.ready),
    workerMsPerFace: raw.stats.workerMs / Math.max(1, raw.stats.generated),
    loadLongest: longest(loadTasks),
    loadOverGoal: overGoal.length,
    loadOverGoalInFrames: overGoal.filter((t) => slowFrames.some((f) => f.startTime < t.startTime + t.duration && t.startTime < f.startTime + f.duration)).length,
    setupLongest: longest(setupTasks),
    setupOverGoal: setupTasks.filter((t) => t.duration > LongTaskGoalMs).length,
  };
}

function Within(tasks: readonly LongTask[], from: number, to: number): LongTask[] {
  return tasks.filter((t) => t.startTime + t.duration > from && t.startTime < to);
}

/** `node test/dist/bench/browserBench.js`: this section alone. */
if (process.argv[1]?.endsWith("browserBench.js")) {
  const started = performance.now();
  for (const line of await RunBrowserBenchAsync()) console.log(line);
  console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
