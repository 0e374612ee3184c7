/**
 * The `training-gpu` bench section alone, with a small import graph: the entry that tools/gpu-bench packs for a GPU
 * machine without Node. Exit status 3 when the device did not start (no adapter), so a script can tell.
 */
import { MeasureGpuTrainingAsync } from "./gpuTrainingBench.js";

console.log(`npc-faces training-gpu bench, Node ${process.version} at ${process.execPath}`);
const { lines, ran } = await MeasureGpuTrainingAsync();
for (const line of lines) console.log(line);
if (!ran) process.exitCode = 3;
