/**
 * The generator options of imported models (architecture.ts): absent on every preset (so today's models, checkpoints
 * and goldens are unchanged), validated, and reflected in the parameter list and the layers; the tfjs network
 * refuses them rather than computing something else. Their graph semantics are checked against NVIDIA's and
 * rosinality's own generators in tools/test/import.
 */
import { describe, expect, it } from "vitest";
import { GeneratorParameterSpecs, GeneratorPresets, ImportOnlyOptions, NumWs, SynthesisLayers, ValidateGeneratorConfig, type GeneratorConfig } from "../src/networks/architecture.js";
import { SynthesisForward } from "../src/networks/generatorNetwork.js";

const Base: GeneratorConfig = { resolution: 16, zDim: 8, wDim: 8, labelDim: 0, mappingLayers: 2, mappingLrMultiplier: 0.01, channelBase: 64, channelMax: 8 };

describe("import-only generator options", () => {
  it("are absent on every preset", () => {
    for (const preset of Object.values(GeneratorPresets)) expect(ImportOnlyOptions(preset)).toEqual([]);
  });

  it("are validated", () => {
    expect(() => ValidateGeneratorConfig({ ...Base, upsampleConv: "transposedConv" })).toThrow(/needs resampling "zeroPad"/);
    expect(() => ValidateGeneratorConfig({ ...Base, convClamp: 0 })).toThrow(/convClamp must be a positive number/);
    expect(() => ValidateGeneratorConfig({ ...Base, synthesis: "bogus" as never })).toThrow(/synthesis must be one of skip, resnet, orig/);
    expect(() => ValidateGeneratorConfig({ ...Base, resampling: "zeroPad", upsampleConv: "transposedConv", convClamp: 256, synthesis: "resnet", noise: "constant" })).not.toThrow();
  });

  it("shape the layers and parameters: resnet skips, one toRGB for resnet/orig, constant noise maps", () => {
    const names = (config: GeneratorConfig) => GeneratorParameterSpecs(config).map((s) => s.name);
    expect(names({ ...Base, synthesis: "resnet" }).filter((n) => n.includes(".skip."))).toEqual(["synthesis.b8.skip.weight", "synthesis.b16.skip.weight"]);
    for (const synthesis of ["resnet", "orig"] as const) {
      const rgb = SynthesisLayers({ ...Base, synthesis }).filter((l) => l.kind === "torgb");
      expect(rgb.map((l) => [l.name, l.wIndex])).toEqual([["synthesis.b16.torgb", NumWs(Base) - 1]]);
    }
    const noise = GeneratorParameterSpecs({ ...Base, noise: "constant" }).filter((s) => s.name.endsWith("noise_const"));
    expect(noise.map((s) => [s.name, s.shape, s.trainable])).toEqual([
      ["synthesis.b4.conv1.noise_const", [4, 4], false],
      ["synthesis.b8.conv0.noise_const", [8, 8], false],
      ["synthesis.b8.conv1.noise_const", [8, 8], false],
      ["synthesis.b16.conv0.noise_const", [16, 16], false],
      ["synthesis.b16.conv1.noise_const", [16, 16], false],
    ]);
    expect(names(Base)).toEqual(names({ ...Base, resampling: "edgeClamp", upsampleConv: "resizeThenConv", synthesis: "skip", noise: "seeded" }));
  });

  it("are refused by the tfjs network", () => {
    // The check comes before any tensor is touched: placeholders suffice (no tfjs backend needed).
    const config: GeneratorConfig = { ...Base, resampling: "zeroPad" };
    expect(() => SynthesisForward(config, () => ({}) as never, {} as never, [], {} as never)).toThrow(/does not implement resampling zeroPad/);
  });
});
