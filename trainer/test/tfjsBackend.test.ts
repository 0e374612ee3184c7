/** tfjs backend selection in Node: wasm (SIMD binary found next to the package) and cpu, idempotent, with gradients. */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync, RegisterTfjsGradientsAsync, WasmBinariesUrl, tf } from "../src/backends/tfjsBackend.js";

describe("InitializeTfjsBackendAsync", () => {
  it("finds the wasm binaries in the installed package", () => {
    const dir = fileURLToPath(WasmBinariesUrl());
    for (const name of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"]) expect(existsSync(dir + name), name).toBe(true);
  });

  it("runs on wasm and cpu, idempotently, with gradients registered", async () => {
    await InitializeTfjsBackendAsync("wasm");
    await InitializeTfjsBackendAsync("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(tf.add(tf.tensor([1, 2]), 1).dataSync()).toEqual(new Float32Array([2, 3]));
    // Node: SIMD yes, threads no (tfjs disables them under Node).
    expect(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")).toBe(true);
    expect(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")).toBe(false);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor([1, -2]));
    expect(g.dataSync()).toEqual(new Float32Array([2, -4]));

    await InitializeTfjsBackendAsync("cpu");
    expect(tf.getBackend()).toBe("cpu");
    await RegisterTfjsGradientsAsync();
    expect(tf.getGradient("Conv2D")).toBeDefined();
  });
});
