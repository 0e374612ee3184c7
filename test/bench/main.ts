/**
 * `npm run bench [-- section ...]`: prints the figures the issues ask for. Sections: runtime, dataset, browser, training, training-gpu, canonical, autodiff, bake, editor, crowd, import, metrics.
 * Each section is one file; run a subset by naming it. `runtime` and `training` also measure NVIDIA's
 * StyleGAN2-ADA in the same run when NPC_FACES_STYLEGAN2_ADA names a checkout of it (see nvidiaReference.ts).
 */
import { cpus } from "node:os";
import { RunDatasetBenchAsync } from "@npc-faces/tools";
import { RunBrowserBenchAsync } from "./browserBench.js";
import { RunRuntimeBenchAsync } from "./runtimeBench.js";
import { RunTrainingBenchAsync } from "./trainingBench.js";

const Sections: Record<string, () => Promise<string[]>> = {
  runtime: () => RunRuntimeBenchAsync(),
  dataset: () => RunDatasetBenchAsync(),
  browser: () => RunBrowserBenchAsync(),
  training: () => RunTrainingBenchAsync(),
  "training-gpu": () => import("./gpuTrainingBench.js").then((m) => m.RunGpuTrainingBenchAsync()),
  canonical: () => import("./canonicalBench.js").then((m) => m.RunCanonicalBenchAsync()),
  autodiff: () => import("./autodiffBench.js").then((m) => m.RunAutodiffBenchAsync()),
  bake: () => import("./bakeBench.js").then((m) => m.RunBakeBenchAsync()),
  editor: async () => (await import("./editorBench.js")).RunEditorBenchAsync(),
  crowd: async () => (await import("./crowdBench.js")).RunCrowdBenchAsync(),
  import: async () => (await import("./importBench.js")).RunImportBenchAsync(),
  metrics: async () => (await import("./metricsBench.js")).RunMetricsBenchAsync(),
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in Sections));
if (unknown.length > 0) {
  console.error(`npc-faces bench: unknown section(s) ${unknown.join(", ")} (known: ${Object.keys(Sections).join(", ")})`);
  process.exit(2);
}
console.log(`npc-faces benchmarks on ${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}`);
for (const name of requested.length > 0 ? requested : Object.keys(Sections)) {
  console.log(`\n## ${name}`);
  for (const line of await Sections[name]()) console.log(line);
}
