import { describe, expect, it } from "vitest";
import { BuildFaceInputs, FaceLabelValues, FillUniform, LatentFromSeed, NoiseFromSeed, ResolveFaceRequest, SeedStream, ValidateFaceRequest, type FaceRequest, type NpcFacesError } from "@npc-faces/runtime";
import { ConditionalMetadata, SampleMetadata } from "./onnxFixtures.js";

const metadata = SampleMetadata();

function RequestError(request: unknown, m = metadata): NpcFacesError {
  try {
    ValidateFaceRequest(m, request as FaceRequest, "requests[2]");
  } catch (error) {
    return error as NpcFacesError;
  }
  throw new Error("expected an error");
}

describe("ValidateFaceRequest", () => {
  it("accepts a seed alone and full requests", () => {
    ValidateFaceRequest(metadata, { seed: 0 });
    ValidateFaceRequest(metadata, { seed: 4294967295, mixSeed: 7, mix: 0.5, mixCrossover: 4, psi: -0.5, noiseStrength: 0, controls: { smile: 10, age: -1 } });
  });

  it.each([
    [{ seed: -1 }, "requests[2].seed: expected an integer in 0..4294967295, got -1"],
    [{ seed: 2 ** 32 }, "requests[2].seed: expected an integer in 0..4294967295, got 4294967296"],
    [{ seed: 1.5 }, "requests[2].seed: expected an integer in 0..4294967295, got 1.5"],
    [{ seed: "12" }, 'requests[2].seed: expected an integer in 0..4294967295, got "12"'],
    [{}, "requests[2].seed: expected an integer in 0..4294967295, got undefined"],
    [{ seed: 1, mixSeed: -3 }, "requests[2].mixSeed: expected an integer in 0..4294967295, got -3"],
    [{ seed: 1, psi: NaN }, "requests[2].psi: expected a finite number, got NaN"],
    [{ seed: 1, psi: Infinity }, "requests[2].psi: expected a finite number, got Infinity"],
    [{ seed: 1, noiseStrength: "1" }, 'requests[2].noiseStrength: expected a finite number, got "1"'],
    [{ seed: 1, mix: 1.01 }, "requests[2].mix: expected a number in 0..1, got 1.01"],
    [{ seed: 1, mix: -0.1 }, "requests[2].mix: expected a number in 0..1, got -0.1"],
    [{ seed: 1, mixCrossover: 5 }, "requests[2].mixCrossover: expected an integer layer in 0..4, got 5"],
    [{ seed: 1, mixCrossover: 1.5 }, "requests[2].mixCrossover: expected an integer layer in 0..4, got 1.5"],
    [{ seed: 1, controls: { smil: 1 } }, "requests[2].controls.smil: unknown control (known: smile, age)"],
    [{ seed: 1, controls: { smile: NaN } }, "requests[2].controls.smile: expected a finite number, got NaN"],
    [{ seed: 1, controls: [1, 2] }, "requests[2].controls: expected an object of control name -> amount, got an array"],
    [{ seed: 1, labels: { hair: "red" } }, "requests[2].labels.hair: unknown attribute (known: none)"],
    [{ seed: 1, noisestrength: 1 }, "requests[2].noisestrength: unknown field (known: seed, mixSeed, mix, mixCrossover, psi, noiseStrength, controls, labels)"],
    [null, "requests[2]: expected an object like { seed: 42 }, got null"],
  ])("rejects %j", (request, message) => {
    const e = RequestError(request);
    expect(e.code).toBe("BAD_REQUEST");
    expect(e.message).toBe(message);
  });

  it("checks labels of conditional models", () => {
    const m = ConditionalMetadata();
    ValidateFaceRequest(m, { seed: 1, labels: { hair: "blond", glasses: "yes" } });
    expect(RequestError({ seed: 1, labels: { hair: "red" } }, m).message).toBe('requests[2].labels.hair: unknown value "red" (known: black, brown, blond)');
    expect(RequestError({ seed: 1, labels: { hat: "yes" } }, m).message).toBe("requests[2].labels.hat: unknown attribute (known: hair, glasses)");
  });
});

describe("ResolveFaceRequest", () => {
  it("fills defaults from the metadata", () => {
    const r = ResolveFaceRequest(metadata, { seed: 5 });
    expect(r.mixSeed).toBe(5);
    expect([...r.mixWeights]).toEqual([0, 0, 0, 0]);
    expect(r.psi).toBe(0.7);
    expect(r.noiseStrength).toBe(1);
    expect([...r.controls]).toEqual([0, 0.5]);
  });

  it("mix defaults to 1 with a mix seed; layers below the crossover keep their own w", () => {
    expect([...ResolveFaceRequest(metadata, { seed: 5, mixSeed: 6 }).mixWeights]).toEqual([1, 1, 1, 1]);
    expect([...ResolveFaceRequest(metadata, { seed: 5, mixSeed: 6, mixCrossover: 2 }).mixWeights]).toEqual([0, 0, 1, 1]);
    expect([...ResolveFaceRequest(metadata, { seed: 5, mixSeed: 6, mix: 0.25, mixCrossover: 3 }).mixWeights]).toEqual([0, 0, 0, 0.25]);
    expect([...ResolveFaceRequest(metadata, { seed: 5, mixSeed: 6, mixCrossover: 4 }).mixWeights]).toEqual([0, 0, 0, 0]);
  });

  it("builds label vectors: chosen values one-hot, the rest default probabilities", () => {
    const m = ConditionalMetadata();
    expect([...ResolveFaceRequest(m, { seed: 1 }).label]).toEqual([0.5, 0.30000001192092896, 0.20000000298023224, 0.10000000149011612]);
    expect([...ResolveFaceRequest(m, { seed: 1, labels: { hair: "brown" } }).label]).toEqual([0, 1, 0, 0.10000000149011612]);
    expect([...ResolveFaceRequest(m, { seed: 1, labels: { glasses: "yes" } }).label].slice(3)).toEqual([1]);
  });

  it("draws unset labels per seed where the metadata says how: one-hot, yes/no, uniform scalar", () => {
    const base = ConditionalMetadata();
    const m = {
      ...base,
      labelDim: 5,
      labels: [
        { ...base.labels[0], sampling: "onehot" as const },
        { ...base.labels[1], sampling: "bernoulli" as const },
        { name: "tone", offset: 4, values: ["tone"], default: [0.5], sampling: "uniform" as const },
      ],
    };
    const seeds = Array.from({ length: 4000 }, (_, i) => i);
    const labels = seeds.map((seed) => [...ResolveFaceRequest(m, { seed }).label]);
    // Deterministic, from the seed's label stream (one uniform per attribute, in metadata order).
    const u = FillUniform(7, SeedStream.Labels, new Float64Array(3));
    expect([...ResolveFaceRequest(m, { seed: 7 }).label]).toEqual([u[0] < 0.5 ? 1 : 0, u[0] >= 0.5 && u[0] < 0.8 ? 1 : 0, u[0] >= 0.8 ? 1 : 0, u[1] < 0.1 ? 1 : 0, Math.fround(u[2])]);
    // Frequencies follow the defaults.
    const mean = (column: number) => labels.reduce((sum, l) => sum + l[column], 0) / labels.length;
    for (const [column, p] of [[0, 0.5], [1, 0.3], [2, 0.2], [3, 0.1], [4, 0.5]]) expect(Math.abs(mean(column) - p), `column ${column}`).toBeLessThan(0.03);
    expect(labels.every((l) => l[0] + l[1] + l[2] === 1 && (l[3] === 0 || l[3] === 1) && l[4] > 0 && l[4] < 1)).toBe(true);
    // A value the caller sets wins; other attributes are still drawn.
    expect([...ResolveFaceRequest(m, { seed: 7, labels: { hair: "blond" } }).label].slice(0, 3)).toEqual([0, 0, 1]);
    expect(ResolveFaceRequest(m, { seed: 7, labels: { hair: "blond" } }).label[4]).toBe(Math.fround(u[2]));
  });

  it("takes unset labels from the seed's labelTable row, whatever the request sets; every row shows up", () => {
    const base = ConditionalMetadata();
    const table = [
      [1, 0, 0, 0],
      [0, 1, 0, 1],
      [0, 0, 1, 0],
      [0, 0, 1, 1],
    ];
    const m = { ...base, labels: [{ ...base.labels[0], sampling: "onehot" as const }, { ...base.labels[1], sampling: "bernoulli" as const }], labelTable: table };
    const u = FillUniform(7, SeedStream.Labels, new Float64Array(2));
    expect([...ResolveFaceRequest(m, { seed: 7 }).label]).toEqual(table[Math.floor(u[0] * 4)]);
    // Only whole rows of the table, and every row shows up.
    const rows = new Set(Array.from({ length: 400 }, (_, seed) => ResolveFaceRequest(m, { seed }).label.join(",")));
    expect([...rows].sort()).toEqual(table.map((r) => r.join(",")).sort());
    // Setting a value changes that value only (four rows are too few to show any pair as impossible), also where no
    // row has it, and leaves a face that already has it as it was.
    for (let seed = 0; seed < 50; seed++) {
      const own = [...ResolveFaceRequest(m, { seed }).label];
      expect([...ResolveFaceRequest(m, { seed, labels: { hair: "brown" } }).label]).toEqual([0, 1, 0, own[3]]);
      expect([...ResolveFaceRequest(m, { seed, labels: { glasses: "yes" } }).label]).toEqual([...own.slice(0, 3), 1]);
      const hair = own.slice(0, 3).indexOf(1);
      expect([...ResolveFaceRequest(m, { seed, labels: { hair: base.labels[0].values[hair] } }).label]).toEqual(own);
    }
    // Deterministic per seed.
    expect(ResolveFaceRequest(m, { seed: 11 }).label).toEqual(ResolveFaceRequest(m, { seed: 11 }).label);
  });

  it("takes from a row that agrees with the values set only the attributes the data never shows with them", () => {
    // gender, eye style (two a man's, two a woman's; f1 rare), beard (men only), and a scalar skin tone.
    const m = SampleMetadata({
      labelDim: 8,
      labels: [
        { name: "gender", offset: 0, values: ["male", "female"], default: [0.5, 0.5], sampling: "onehot" },
        { name: "eyes", offset: 2, values: ["m1", "m2", "f1", "f2"], default: [0.25, 0.25, 0.25, 0.25], sampling: "onehot" },
        { name: "beard", offset: 6, values: ["yes"], default: [0.2], sampling: "bernoulli" },
        { name: "tone", offset: 7, values: ["tone"], default: [0.5], sampling: "uniform" },
      ],
      labelTable: Array.from({ length: 80 }, (_, i) => {
        const female = i % 2 === 1;
        const eyes = female ? (i % 8 === 1 ? 2 : 3) : i % 4 === 0 ? 0 : 1;
        return [female ? 0 : 1, female ? 1 : 0, ...[0, 1, 2, 3].map((e) => (e === eyes ? 1 : 0)), !female && i % 3 === 0 ? 1 : 0, i / 80];
      }),
    });
    const label = (seed: number, labels?: Record<string, string>) => [...ResolveFaceRequest(m, { seed, labels }).label];
    const bearded = Array.from({ length: 300 }, (_, seed) => seed).filter((seed) => label(seed)[6] === 1);
    expect(bearded.length).toBeGreaterThan(20);
    for (const seed of bearded) {
      const own = label(seed);
      // A man's other eye style: only the eyes change.
      expect(label(seed, { eyes: "m2" })).toEqual([1, 0, 0, 1, 0, 0, 1, own[7]]);
      // A woman's eyes bring a woman's gender (no row has them on a man) and, through it, no beard, though f1 is
      // too rare for its own pair with a beard to count; the skin tone stays.
      expect(label(seed, { eyes: "f1" })).toEqual([0, 1, 0, 0, 1, 0, 0, own[7]]);
      const female = label(seed, { gender: "female" });
      expect(female.slice(0, 2)).toEqual([0, 1]);
      expect(female.slice(2, 4)).toEqual([0, 0]);
      expect(female[6]).toBe(0);
      expect(female[7]).toBe(own[7]);
    }
    // The woman's eyes come from the row an agreeing draw picks, so faces still differ by seed.
    expect(new Set(bearded.map((seed) => label(seed, { gender: "female" }).slice(2, 6).join(",")))).toEqual(new Set(["0,0,1,0", "0,0,0,1"]));
  });

  it("names the one-hot values a face gets, set or drawn (FaceLabelValues)", () => {
    const base = ConditionalMetadata();
    const table = [
      [1, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 0, 1], // no hair value: hair is left out
    ];
    const m = { ...base, labels: [{ ...base.labels[0], sampling: "onehot" as const }, { ...base.labels[1], sampling: "bernoulli" as const }], labelTable: table };
    const named = Array.from({ length: 300 }, (_, seed) => FaceLabelValues(m, { seed }));
    expect(new Set(named.map((v) => JSON.stringify(v)))).toEqual(new Set(['{"hair":"black"}', '{"hair":"blond"}', "{}"]));
    // The same values as the label vector the generator is fed.
    for (let seed = 0; seed < 20; seed++) {
      const hair = [...ResolveFaceRequest(m, { seed }).label].slice(0, 3).indexOf(1);
      expect(FaceLabelValues(m, { seed }).hair).toBe(hair < 0 ? undefined : base.labels[0].values[hair]);
    }
    expect(FaceLabelValues(m, { seed: 5, labels: { hair: "brown" } })).toEqual({ hair: "brown" });
    expect(() => FaceLabelValues(m, { seed: 5, labels: { hair: "red" } })).toThrow(/request\.labels\.hair: unknown value "red"/);
    expect(FaceLabelValues(metadata, { seed: 5 })).toEqual({});
  });
});

describe("BuildFaceInputs", () => {
  const requests: FaceRequest[] = [{ seed: 1 }, { seed: 2, mixSeed: 3, mixCrossover: 1, psi: 0.5, noiseStrength: 0.25, controls: { age: 2 } }, { seed: 1 }];

  it("builds every graph input with the contract's shapes", () => {
    const feeds = BuildFaceInputs(metadata, requests);
    const shapes = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dims]));
    expect(shapes).toEqual({
      z: [3, 8],
      z_mix: [3, 8],
      mix: [3, 4],
      psi: [3, 1],
      controls: [3, 2],
      noise_strength: [3, 1],
      noise0: [3, 1, 4, 4],
      noise1: [3, 1, 8, 8],
      noise2: [3, 1, 8, 8],
    });
    for (const t of Object.values(feeds)) {
      expect(t.type).toBe("float32");
      expect(t.data).toBeInstanceOf(Float32Array);
      expect(t.data.length).toBe(t.dims.reduce((a, b) => a * b, 1));
    }
  });

  it("adds label only for conditional models", () => {
    const feeds = BuildFaceInputs(ConditionalMetadata(), [{ seed: 1, labels: { hair: "black" } }]);
    expect(feeds.label.dims).toEqual([1, 4]);
    expect([...feeds.label.data]).toEqual([1, 0, 0, Math.fround(0.1)]);
    expect(BuildFaceInputs(SampleMetadata({ controls: [] }), [{ seed: 1 }]).controls).toBeUndefined();
  });

  it("feeds latents, mix weights, psi, controls and noise strength per request", () => {
    const feeds = BuildFaceInputs(metadata, requests);
    const row = (name: string, i: number) => Array.from(feeds[name].data.subarray(i * (feeds[name].data.length / 3), (i + 1) * (feeds[name].data.length / 3)));
    expect(row("z", 0)).toEqual(Array.from(LatentFromSeed(1, 8)));
    expect(row("z_mix", 0)).toEqual(row("z", 0)); // no mix seed: z_mix = z
    expect(row("z", 1)).toEqual(Array.from(LatentFromSeed(2, 8)));
    expect(row("z_mix", 1)).toEqual(Array.from(LatentFromSeed(3, 8)));
    expect(row("mix", 0)).toEqual([0, 0, 0, 0]);
    expect(row("mix", 1)).toEqual([0, 1, 1, 1]);
    expect(row("psi", 0)).toEqual([Math.fround(0.7)]);
    expect(row("psi", 1)).toEqual([0.5]);
    expect(row("noise_strength", 1)).toEqual([0.25]);
    expect(row("controls", 0)).toEqual([0, 0.5]);
    expect(row("controls", 1)).toEqual([0, 2]);
  });

  it("derives noise from the seed: layer i of request n is NoiseFromSeed(seed, i, r)", () => {
    const feeds = BuildFaceInputs(metadata, requests);
    expect(Array.from(feeds.noise1.data.subarray(64, 128))).toEqual(Array.from(NoiseFromSeed(2, 1, 8)));
    expect(Array.from(feeds.noise0.data.subarray(0, 16))).toEqual(Array.from(NoiseFromSeed(1, 0, 4)));
    // Same seed, same noise; other seed or layer, other noise.
    expect(feeds.noise2.data.subarray(0, 64)).toEqual(feeds.noise2.data.subarray(128, 192));
    expect(feeds.noise2.data.subarray(0, 64)).not.toEqual(feeds.noise2.data.subarray(64, 128));
    expect(feeds.noise1.data.subarray(0, 64)).not.toEqual(feeds.noise2.data.subarray(0, 64));
    // The mix seed does not change the noise.
    const mixed = BuildFaceInputs(metadata, [{ seed: 2 }]);
    expect(mixed.noise1.data).toEqual(feeds.noise1.data.subarray(64, 128));
  });

  it("is the same for a request alone and inside a batch", () => {
    const alone = BuildFaceInputs(metadata, [requests[1]]);
    const batch = BuildFaceInputs(metadata, requests);
    for (const [name, t] of Object.entries(alone)) {
      const n = t.data.length;
      expect(batch[name].data.subarray(n, 2 * n), name).toEqual(t.data);
    }
  });

  it("rejects an empty batch and names the bad request", () => {
    expect(() => BuildFaceInputs(metadata, [])).toThrow("requests: expected at least one request");
    expect(() => BuildFaceInputs(metadata, [{ seed: 1 }, { seed: -1 }])).toThrow("requests[1].seed:");
  });
});
