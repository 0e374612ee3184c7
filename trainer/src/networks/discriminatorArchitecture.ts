/**
 * The description of the discriminator that trains with a generator of {@link GeneratorConfig}, in the same
 * style as {@link GeneratorParameterSpecs}: stored (equalised learning rate) parameters with a runtime `gain`.
 *
 * Layout (as stylegan2-ada-pytorch's residual `Discriminator`, channels as the generator's at each resolution):
 *  - b{R}.fromrgb: 1x1 conv 3 -> C(R), lrelu (only at the input resolution; progressive growing adds one
 *    fromrgb per block, see `progressive`)
 *  - block r = R..8: conv0 3x3 C(r) -> C(r), lrelu; conv1: 3x3 C(r) -> C(r/2) down-sampling (see
 *    {@link DiscriminatorConvDown}), lrelu; skip: Down2x then 1x1 C(r) -> C(r/2), no bias;
 *    x = (skip + conv1) * sqrt(0.5)
 *  - epilogue b4: minibatch standard deviation (+1 channel), conv 3x3 C4+1 -> C4, lrelu, fc C4*16 -> C4,
 *    lrelu, out fc C4 -> 1 (unconditional) or cmapDim (conditional: projection onto the mapped label,
 *    score = sum(out * cmap) / sqrt(cmapDim))
 *  - conditional: the label mapping, embed fc labelDim -> cmapDim, 2nd-moment normalised, then `mappingLayers`
 *    fc cmapDim -> cmapDim + lrelu at the mapping learning rate (stylegan2-ada's MappingNetwork with z_dim 0)
 *  - label head (conditional, `labelHead`; not in stylegan2-ada): fc C4 -> labelDim on the lrelu'd fc output,
 *    the logits of the label loss (../training/trainingOptions.ts `labelLoss`)
 */
import { type GeneratorConfig, type ParameterSpec, BlockResolutions, ChannelsAt, ValidateGeneratorConfig } from "./architecture.js";

/** Group size of the minibatch standard-deviation layer (stylegan2-ada: 4). */
export const MinibatchStdGroupSize = 4;

/** Name prefix of the label loss's head (see `DiscriminatorSpecOptions.labelHead`). */
export const DiscriminatorLabelHead = "discriminator.b4.labels";

/** Size of the label embedding the conditional discriminator projects onto (stylegan2-ada `cmap_dim`). */
export function DiscriminatorCmapDim(config: GeneratorConfig): number {
  return config.labelDim > 0 ? ChannelsAt(config, 4) : 0;
}

/**
 * How a block's conv1 halves the resolution. `filterFirst` (npc-faces 0.1): Down2x (the [1,3,3,1] filter, edge
 * clamped, stride 2) then a 3x3 conv at the lower resolution. `strided` (stylegan2-ada's conv2d_resample): the
 * [1,3,3,1] filter at full resolution (zero padding 2, size r + 1) then a 3x3 conv with stride 2, whose taps are one
 * full-resolution pixel apart: the same FLOPs, a finer look at small features.
 */
export const DiscriminatorConvDowns = ["filterFirst", "strided"] as const;
export type DiscriminatorConvDown = (typeof DiscriminatorConvDowns)[number];

/** Options of {@link DiscriminatorParameterSpecs}. */
export interface DiscriminatorSpecOptions {
  /** Add a fromrgb layer to every block (progressive growing feeds lower resolutions there). Default false. */
  readonly progressive?: boolean;
  /** How conv1 down-samples. Default `filterFirst` (what checkpoints from before the option hold). */
  readonly convDown?: DiscriminatorConvDown;
  /** FC + lrelu layers after the conditional discriminator's label embedding. Default 0 (as before the option). */
  readonly mappingLayers?: number;
  /** Conditional: an FC from the last hidden layer to one logit per label column (the label loss's head), last in order. Default false. */
  readonly labelHead?: boolean;
}

/** Every discriminator parameter, in a fixed order (tfjs layouts: conv HWIO, FC [in, out]). */
export function DiscriminatorParameterSpecs(config: GeneratorConfig, options: DiscriminatorSpecOptions = {}): ParameterSpec[] {
  ValidateGeneratorConfig(config);
  const specs: ParameterSpec[] = [];
  const conv = (name: string, k: number, cIn: number, cOut: number, bias: boolean) => {
    specs.push({ name: `${name}.weight`, shape: [k, k, cIn, cOut], init: { kind: "normal", scale: 1 }, gain: 1 / Math.sqrt(cIn * k * k), lrMultiplier: 1, trainable: true });
    if (bias) specs.push({ name: `${name}.bias`, shape: [cOut], init: { kind: "constant", value: 0 }, gain: 1, lrMultiplier: 1, trainable: true });
  };
  const fc = (name: string, cIn: number, cOut: number) => {
    specs.push({ name: `${name}.weight`, shape: [cIn, cOut], init: { kind: "normal", scale: 1 }, gain: 1 / Math.sqrt(cIn), lrMultiplier: 1, trainable: true });
    specs.push({ name: `${name}.bias`, shape: [cOut], init: { kind: "constant", value: 0 }, gain: 1, lrMultiplier: 1, trainable: true });
  };
  const blocks = BlockResolutions(config).filter((r) => r > 4).reverse();
  for (const r of blocks) {
    const c = ChannelsAt(config, r);
    const cNext = ChannelsAt(config, r / 2);
    if (r === config.resolution || options.progressive) conv(`discriminator.b${r}.fromrgb`, 1, 3, c, true);
    conv(`discriminator.b${r}.conv0`, 3, c, c, true);
    conv(`discriminator.b${r}.conv1`, 3, c, cNext, true);
    conv(`discriminator.b${r}.skip`, 1, c, cNext, false);
  }
  const c4 = ChannelsAt(config, 4);
  if (options.progressive) conv("discriminator.b4.fromrgb", 1, 3, c4, true);
  conv("discriminator.b4.conv", 3, c4 + 1, c4, true);
  fc("discriminator.b4.fc", c4 * 16, c4);
  const cmapDim = DiscriminatorCmapDim(config);
  fc("discriminator.b4.out", c4, cmapDim > 0 ? cmapDim : 1);
  if (cmapDim > 0) {
    fc("discriminator.mapping.embed", config.labelDim, cmapDim);
    const lr = config.mappingLrMultiplier;
    for (let i = 0; i < (options.mappingLayers ?? 0); i++) {
      specs.push({ name: `discriminator.mapping.fc${i}.weight`, shape: [cmapDim, cmapDim], init: { kind: "normal", scale: 1 / lr }, gain: lr / Math.sqrt(cmapDim), lrMultiplier: lr, trainable: true });
      specs.push({ name: `discriminator.mapping.fc${i}.bias`, shape: [cmapDim], init: { kind: "constant", value: 0 }, gain: lr, lrMultiplier: lr, trainable: true });
    }
    if (options.labelHead) fc(DiscriminatorLabelHead, c4, config.labelDim);
  }
  return specs;
}

/** Multiply-accumulate count x 2 (FLOP) of one image through the discriminator's convs and FCs. */
export function DiscriminatorFlopsPerImage(config: GeneratorConfig): number {
  let flops = 0;
  for (const r of BlockResolutions(config).filter((x) => x > 4)) {
    const c = ChannelsAt(config, r);
    const cNext = ChannelsAt(config, r / 2);
    if (r === config.resolution) flops += 2 * 3 * c * r * r;
    flops += 2 * 9 * c * c * r * r;
    flops += 2 * 9 * c * cNext * (r / 2) * (r / 2);
    flops += 2 * c * cNext * (r / 2) * (r / 2);
  }
  const c4 = ChannelsAt(config, 4);
  flops += 2 * 9 * (c4 + 1) * c4 * 16 + 2 * c4 * 16 * c4 + 2 * c4 * Math.max(1, DiscriminatorCmapDim(config));
  return flops;
}
