import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildDatasetAsync } from "../../src/dataset/buildDataset.js";
import { DicebearStyleNames } from "../../src/dataset/datasetSources.js";
import { CreateDicebearAvatar, LoadDicebearStyleAsync } from "../../src/dataset/dicebearSource.js";
import { DicebearStyleConfigs } from "../../src/dataset/dicebearStyles.js";
import { DeriveImageSeed } from "../../src/dataset/seededRandom.js";
import { MakeTempDirAsync } from "./datasetTestUtils.js";

let temp: Awaited<ReturnType<typeof MakeTempDirAsync>>;
beforeAll(async () => {
  temp = await MakeTempDirAsync();
});
afterAll(async () => temp.cleanupAsync());

/** The "Designer:" and "License:" lines of the LICENSE file shipped in @dicebear/<style>. */
async function ShippedLicenceAsync(style: string): Promise<{ designer: string; licence: string }> {
  // Resolve from @dicebear/collection, which depends on every style package.
  const require = createRequire(join(dirname(createRequire(import.meta.url).resolve("@dicebear/collection")), "x.js"));
  const entry = require.resolve(`@dicebear/${style}`);
  const text = await readFile(join(dirname(entry), "..", "LICENSE"), "utf8");
  const design = text.slice(text.indexOf("# Design"), text.indexOf("# Code"));
  return {
    designer: /Designer: ([^(\n]+?)\s*(\(|\n)/.exec(design)![1],
    licence: /License: ([^(\n]+?)\s*(\(|\n)/.exec(design)![1],
  };
}

const ExpectedDesigners: Record<string, RegExp> = {
  personas: /Draftbit/,
  "toon-head": /Johan Melin/,
  adventurer: /Lisa Wischofsky/,
  lorelei: /Lisa Wischofsky/,
  avataaars: /Pablo Stanley/,
};

describe.each(DicebearStyleNames)("dicebear:%s", (style) => {
  it("builds deterministically with plausible labels and the shipped licence", async () => {
    const options = { source: `dicebear:${style}`, count: 6, res: 32, seed: 5 };
    const a = await BuildDatasetAsync({ ...options, out: join(temp.dir, `${style}-a`), workers: 1 });
    const b = await BuildDatasetAsync({ ...options, out: join(temp.dir, `${style}-b`), workers: 1 });
    const c = await BuildDatasetAsync({ ...options, seed: 6, out: join(temp.dir, `${style}-c`), workers: 1 });
    expect(b.contentHash).toBe(a.contentHash);
    expect(c.contentHash).not.toBe(a.contentHash);
    expect(c.manifest.images.map((i) => i.pixelSha256)).not.toEqual(a.manifest.images.map((i) => i.pixelSha256));

    const m = a.manifest;
    expect(m.versions).toMatchObject({ "@dicebear/core": "9.4.3", "@dicebear/collection": "9.4.3" });
    const shipped = await ShippedLicenceAsync(style);
    expect(m.licence.credits).toMatch(ExpectedDesigners[style]);
    expect(m.licence.credits).toContain(shipped.designer);
    expect(m.licence.name).toBe(shipped.licence);
    expect(m.licence.attributionRequired).toBe(shipped.licence === "CC BY 4.0");
    for (const image of m.images) {
      for (const [name, value] of Object.entries(image.labels)) expect(m.labelSchema.categorical[name], `${name}=${value}`).toContain(value);
      expect(image.numeric.skin_tone).toBeGreaterThan(0);
      expect(image.numeric.skin_tone).toBeLessThan(1);
    }
  });

  it("labels are what DiceBear reports it drew", async () => {
    const loaded = await LoadDicebearStyleAsync(style);
    const config = DicebearStyleConfigs[style];
    for (let i = 0; i < 12; i++) {
      const avatar = CreateDicebearAvatar(loaded, style, DeriveImageSeed(3, i), "#dcdcdc");
      const extra = avatar.extra;
      for (const choice of config.choices) {
        const drawn = choice.option.endsWith("Color") ? extra[choice.option] : (extra[choice.option] ?? "none");
        expect(drawn, `${choice.option} of image ${i}`).toBe(avatar.picks[choice.option]);
      }
      for (const [name, from] of Object.entries(config.labels)) {
        if (typeof from === "string") expect(avatar.labels[name]).toBe(avatar.picks[from]);
      }
    }
  });
});

it("lorelei gets skin and hair colours (the style ships as line art)", async () => {
  const result = await BuildDatasetAsync({ source: "dicebear:lorelei", count: 12, res: 16, out: join(temp.dir, "lorelei-colours"), seed: 1, pack: false });
  expect(result.manifest.packed).toBeNull();
  expect(new Set(result.manifest.images.map((i) => i.labels.skin_color)).size).toBeGreaterThan(2);
  expect(result.manifest.labelSchema.categorical.skin_color).not.toContain("#ffffff");
});
