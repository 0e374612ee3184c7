/**
 * `--backend auto|gpu|node|wasm|cpu`. gpu = `@tensorflow/tfjs-node-gpu` (CUDA 11.x + cuDNN 8 on the machine,
 * for tfjs-node-gpu 4.22), node = `@tensorflow/tfjs-node` (native TensorFlow on the CPU); both are optional
 * packages loaded only when installed (their install scripts download libtensorflow). wasm =
 * tfjs-backend-wasm (XNNPACK, SIMD, one thread per process; trainable through the custom conv gradients),
 * cpu = pure JS (slow; a reference). auto takes the first that loads of gpu, node, wasm.
 */
import { InitializeTfjsBackendAsync, RegisterTfjsGradientsAsync, tf } from "../backends/tfjsBackend.js";
import type { BackendChoice } from "./trainingOptions.js";

/** The backend a run got. */
export interface SelectedBackend {
  readonly choice: Exclude<BackendChoice, "auto">;
  /** tfjs backend name ("tensorflow", "wasm", "cpu"). */
  readonly tfjsName: string;
  readonly description: string;
}

const NativePackages = { gpu: "@tensorflow/tfjs-node-gpu", node: "@tensorflow/tfjs-node" } as const;

async function TryNativeAsync(kind: "gpu" | "node"): Promise<SelectedBackend | string> {
  const name = NativePackages[kind];
  try {
    await import(/* @vite-ignore */ name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND"
      ? `${name} is not installed (npm install ${name}@4.22.0${kind === "gpu" ? "; needs CUDA 11.x and cuDNN 8" : ""})`
      : `${name} failed to load: ${(error as Error).message.split("\n")[0]}`;
  }
  await RegisterTfjsGradientsAsync();
  if (!(await tf.setBackend("tensorflow"))) return `${name} loaded but its "tensorflow" backend did not initialise`;
  await tf.ready();
  return { choice: kind, tfjsName: "tensorflow", description: kind === "gpu" ? "tfjs-node-gpu (CUDA)" : "tfjs-node (native CPU)" };
}

/** Activates the requested backend; throws a clear message when an explicit choice is unavailable. */
export async function SelectBackendAsync(choice: BackendChoice): Promise<SelectedBackend> {
  if (choice === "gpu" || choice === "node") {
    const got = await TryNativeAsync(choice);
    if (typeof got === "string") throw new Error(`--backend ${choice}: ${got}`);
    return got;
  }
  if (choice === "auto") {
    for (const kind of ["gpu", "node"] as const) {
      const got = await TryNativeAsync(kind);
      if (typeof got !== "string") return got;
    }
    choice = "wasm";
  }
  await InitializeTfjsBackendAsync(choice);
  return { choice, tfjsName: choice, description: choice === "wasm" ? "tfjs-backend-wasm (XNNPACK, SIMD)" : "tfjs-backend-cpu (pure JS, slow)" };
}
