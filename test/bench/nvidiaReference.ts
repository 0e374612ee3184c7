/**
 * The NVIDIA comparison of the bench, measured in the same run or not at all: figures from another machine or
 * another day compare nothing (docs: ENVIRONMENT.md, "Machines differ"). When NPC_FACES_STYLEGAN2_ADA points at a
 * checkout of NVlabs/stylegan2-ada-pytorch and a Python with torch is found (NPC_FACES_TORCH_PYTHON, default
 * /usr/bin/python3, Debian's python3-torch), `nvidiaReference.py` runs NVIDIA's networks with the project's preset
 * sizes on this CPU; otherwise the sections print "not measured" and why.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { RepoRoot } from "@npc-faces/tools";
import type { GeneratorConfig } from "@npc-faces/trainer";

/** Folder of a checkout of NVlabs/stylegan2-ada-pytorch (never committed here). */
export const StyleGan2CheckoutVariable = "NPC_FACES_STYLEGAN2_ADA";
/** A Python interpreter with torch. */
export const TorchPythonVariable = "NPC_FACES_TORCH_PYTHON";
/** Debian's interpreter, which sees `apt-get install python3-torch` (the `python3` on PATH may not). */
export const DefaultTorchPython = "/usr/bin/python3";
/** CPU threads given to PyTorch: the machines these figures come from have 2 cores. */
export const TorchThreads = 2;

/** One preset as NVIDIA's networks are built for it. */
export interface NvidiaPreset {
  readonly name: string;
  readonly config: GeneratorConfig;
}

/** What the reference measured. */
export interface NvidiaMeasurement {
  readonly measured: true;
  /** e.g. `NVIDIA StyleGAN2-ADA (PyTorch 1.13.1, 2 threads)`. */
  readonly label: string;
  readonly generate: readonly { readonly preset: string; readonly batch: number; readonly msPerFace: number }[];
  readonly train: readonly { readonly preset: string; readonly batch: number; readonly imagesPerSecond: number; readonly secondsPerStep: number; readonly cpuSecondsPerStep: number }[];
}

/** Why nothing was measured (a line for the bench output). */
export interface NvidiaNotMeasured {
  readonly measured: false;
  readonly reason: string;
}

/** The line the sections print when the reference is absent. */
export function NotMeasuredLine(result: NvidiaNotMeasured): string {
  return `NVIDIA StyleGAN2-ADA on this machine: not measured (${result.reason})`;
}

/** Where the reference would come from, or why it cannot run. */
export function FindNvidiaReference(env: NodeJS.ProcessEnv = process.env): { checkout: string; python: string } | NvidiaNotMeasured {
  const checkout = env[StyleGan2CheckoutVariable];
  if (checkout === undefined || checkout === "") {
    return { measured: false, reason: `set ${StyleGan2CheckoutVariable} to a checkout of NVlabs/stylegan2-ada-pytorch, and ${TorchPythonVariable} to a Python with torch (default ${DefaultTorchPython}), to measure it in this run` };
  }
  if (!existsSync(join(checkout, "training", "networks.py"))) return { measured: false, reason: `${StyleGan2CheckoutVariable}=${checkout} is not a stylegan2-ada-pytorch checkout (no training/networks.py)` };
  return { checkout: resolve(checkout), python: env[TorchPythonVariable] || DefaultTorchPython };
}

/**
 * Runs NVIDIA's generator (`generate`: ms per face at each batch) and training step (`train`: images/s of Gmain +
 * Dmain at the batch) with each preset's sizes.
 */
export async function MeasureNvidiaAsync(
  request: { generate?: readonly (NvidiaPreset & { batches: readonly number[] })[]; train?: readonly (NvidiaPreset & { batch: number; steps: number })[] },
  env: NodeJS.ProcessEnv = process.env,
): Promise<NvidiaMeasurement | NvidiaNotMeasured> {
  const found = FindNvidiaReference(env);
  if ("measured" in found) return found;
  const sizes = (p: NvidiaPreset) => ({ name: p.name, ...p.config });
  const argument = JSON.stringify({
    checkout: found.checkout,
    threads: TorchThreads,
    minSeconds: 2,
    generate: (request.generate ?? []).map((p) => ({ ...sizes(p), batches: p.batches })),
    train: (request.train ?? []).map((p) => ({ ...sizes(p), batch: p.batch, steps: p.steps })),
  });
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(found.python, [join(RepoRoot, "test", "bench", "nvidiaReference.py"), argument], { maxBuffer: 1 << 20, timeout: 30 * 60_000 }));
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const last = (e.stderr ?? "").trim().split("\n").pop() || e.message.split("\n")[0];
    return { measured: false, reason: `${found.python} could not run it: ${last}` };
  }
  const parsed = JSON.parse(stdout.trim().split("\n").pop()!) as { torch: string; threads: number } & Pick<NvidiaMeasurement, "generate" | "train">;
  return { measured: true, label: `NVIDIA StyleGAN2-ADA (PyTorch ${parsed.torch}, ${parsed.threads} threads)`, generate: parsed.generate, train: parsed.train };
}
