// The file list that tools/gpu-bench/pack.mjs carries to a GPU machine without npm: the built training-gpu bench
// entry's import graph (npm test builds first), with onnxruntime-node's linux-x64 binaries only.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { RuntimeFilesAsync } from "../../gpu-bench/runtimeFiles.mjs";

const Root = fileURLToPath(new URL("../../..", import.meta.url));

describe("RuntimeFilesAsync", () => {
  it("follows the bench entry's imports into the workspace packages and node_modules, linux-x64 binaries only", async () => {
    const { files, links } = await RuntimeFilesAsync(Root, "test/dist/bench/trainingGpuMain.js");
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "test/package.json",
        "test/dist/bench/gpuTrainingBench.js",
        "trainer/package.json",
        "trainer/dist/ortTraining/ortTrainingRun.js",
        "node_modules/onnxruntime-node/package.json",
        "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node",
        "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1",
        "node_modules/onnxruntime-common/package.json",
      ]),
    );
    expect(files.filter((f) => f.includes("/bin/napi-v6/") && !f.includes("/linux/x64/"))).toEqual([]);
    expect(files.filter((f) => /\.(map|d\.ts|md)$/.test(f) || f.startsWith("tools/") || f.includes("onnxruntime-web"))).toEqual([]);
    expect(links).toContainEqual({ path: "node_modules/@npc-faces/trainer", target: "../../trainer" });
    expect(links.map((l) => l.path)).not.toContain("node_modules/@npc-faces/tools");
  });
});
