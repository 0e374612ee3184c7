/**
 * What both layout readers (NVIDIA, rosinality) produce: an npc-faces {@link GeneratorConfig} and its stored
 * weights in the project's layouts (FC `[in, out]`, conv `[kh, kw, in, out]`, constant `[4, 4, C]`), plus the
 * conversions from PyTorch's layouts (FC `[out, in]`, conv `[out, in, kh, kw]`, constant `[C, 4, 4]`).
 */
import type { GeneratorConfig, GeneratorWeights } from "@npc-faces/trainer";

/** Source formats `npc-faces import` reads. */
export type ImportFormat = "nvidia-pkl" | "rosinality-pt";

/** A generator read from another project's file. */
export interface ImportedGenerator {
  readonly format: ImportFormat;
  readonly config: GeneratorConfig;
  /** Stored (pre-gain) values by npc-faces parameter name; `noise_const` maps included. */
  readonly weights: GeneratorWeights;
  /** The object that was read (`G_ema`, `g_ema`). */
  readonly generatorKey: string;
  /** False when `w_avg` was estimated at import (rosinality files without `latent_avg`). */
  readonly wAvgRecorded: boolean;
  /** Free-form facts for the metadata notes (conv_clamp, architecture, fp16 layers, ...). */
  readonly notes: readonly string[];
}

/** torch FC weight `[out, in]` -> `[in, out]`. */
export function FcToInOut(values: Float32Array, outFeatures: number, inFeatures: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let o = 0; o < outFeatures; o++) for (let i = 0; i < inFeatures; i++) out[i * outFeatures + o] = values[o * inFeatures + i];
  return out;
}

/** torch conv weight `[out, in, k, k]` -> `[k, k, in, out]`. */
export function OihwToHwio(values: Float32Array, outChannels: number, inChannels: number, k: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let o = 0; o < outChannels; o++)
    for (let i = 0; i < inChannels; i++)
      for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) out[((y * k + x) * inChannels + i) * outChannels + o] = values[((o * inChannels + i) * k + y) * k + x];
  return out;
}

/** `[C, H, W]` -> `[H, W, C]`. */
export function ChwToHwc(values: Float32Array, channels: number, height: number, width: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let c = 0; c < channels; c++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[(y * width + x) * channels + c] = values[(c * height + y) * width + x];
  return out;
}

/**
 * `channelBase` and `channelMax` such that `min(floor(channelBase / r), channelMax)` gives each block's channels
 * (NVIDIA's and the project's rule), trying `preferred` first; throws when no pair reproduces them.
 */
export function FitChannelBudget(channels: ReadonlyMap<number, number>, preferred?: { base: number; max: number }): { channelBase: number; channelMax: number } {
  const fits = (base: number, max: number): boolean => [...channels].every(([r, c]) => Math.min(Math.floor(base / r), max) === c);
  if (preferred && fits(preferred.base, preferred.max)) return { channelBase: preferred.base, channelMax: preferred.max };
  const max = Math.max(...channels.values());
  const below = [...channels].filter(([, c]) => c < max).sort((a, b) => a[0] - b[0]);
  // The smallest resolution below the cap pins the base (floor division: base in [c*r, (c+1)*r)).
  const base = below.length > 0 ? below[0][1] * below[0][0] : max * Math.max(...channels.keys());
  if (fits(base, max)) return { channelBase: base, channelMax: max };
  const listed = [...channels].map(([r, c]) => `${r}px: ${c}`).join(", ");
  throw new Error(`channel counts (${listed}) do not follow min(base / resolution, max)`);
}
