/**
 * Snapshot averaging: the mean of the EMA generator over several checkpoints of one run (stochastic weight
 * averaging, Izmailov et al. 2018, applied to G_ema after training, as "post-hoc EMA" does in Karras et al. 2024).
 * The trainer's EMA has a half-life of `emaKimg` (2.5 kimg at batch 8, the reference's 10 kimg at batch 32), much
 * shorter than the drift between snapshots 8 kimg apart, so each snapshot is one draw from a swing; the mean of
 * several is a smoother generator than any of them.
 * The result is the latest checkpoint with its G_ema replaced (G, D, Adam moments and counters as they were), so
 * it exports, packs and resumes like any other; `extra.averagedKimg` lists the snapshots it averaged.
 */
import type { CheckpointContents } from "./checkpoint.js";

/** Key of `extra` that lists the kimg of the averaged snapshots. */
export const AveragedKimgKey = "averagedKimg";

/** The latest of `checkpoints` with G_ema the element-wise mean of theirs (accumulated in float64). */
export function AverageGeneratorEma(checkpoints: readonly CheckpointContents[]): CheckpointContents {
  if (checkpoints.length < 2) throw new Error(`snapshot average: needs at least 2 checkpoints, got ${checkpoints.length}`);
  const sorted = [...checkpoints].sort((a, b) => a.state.imagesSeen - b.state.imagesSeen);
  const latest = sorted[sorted.length - 1];
  const kimgOf = (c: CheckpointContents) => c.state.imagesSeen / 1000;
  const sums = new Map([...latest.state.generatorEma].map(([name, values]) => [name, new Float64Array(values.length)]));
  sorted.forEach((c, i) => {
    const at = `the checkpoint at ${kimgOf(c)} kimg`;
    if (i > 0 && c.state.imagesSeen === sorted[i - 1].state.imagesSeen) throw new Error(`snapshot average: two checkpoints at ${kimgOf(c)} kimg`);
    if (c.options.preset !== latest.options.preset) throw new Error(`snapshot average: ${at} is preset "${c.options.preset}", the latest is "${latest.options.preset}"`);
    if (c.data.id !== latest.data.id || c.data.labelNames.join("\n") !== latest.data.labelNames.join("\n")) {
      throw new Error(`snapshot average: ${at} was trained on other data (id ${c.data.id}, ${c.data.labelNames.length} labels) than the latest (id ${latest.data.id}, ${latest.data.labelNames.length} labels)`);
    }
    if (c.state.generatorEma.size !== sums.size) throw new Error(`snapshot average: ${at} has ${c.state.generatorEma.size} G_ema tensors, the latest ${sums.size}`);
    for (const [name, values] of c.state.generatorEma) {
      const sum = sums.get(name);
      if (!sum || sum.length !== values.length) throw new Error(`snapshot average: ${at}: G_ema/${name} does not match the latest checkpoint's`);
      for (let j = 0; j < values.length; j++) sum[j] += values[j];
    }
  });
  const mean = new Map([...sums].map(([name, sum]) => [name, Float32Array.from(sum, (v) => v / sorted.length)]));
  return {
    ...latest,
    state: { ...latest.state, generatorEma: mean },
    extra: { ...latest.extra, [AveragedKimgKey]: sorted.map(kimgOf) },
    stored: undefined,
  };
}
