/** `--labels`: which label columns a conditional run trains on, in the order given. */
import { describe, expect, it } from "vitest";
import { LabelColumns, SelectLabelColumns } from "../../src/training/loadTrainingData.js";

const schema = {
  categorical: { gender: ["male", "female"], facial_hair: ["none", "beard1"], eyes: ["eye1", "eye2", "eye3"] },
  numeric: { skin_tone: { min: 0, max: 1 }, facial_hair: { min: 0, max: 1 } },
};

describe("SelectLabelColumns", () => {
  it("keeps every column by default, sorted by attribute", () => {
    expect(LabelColumns(schema)).toEqual(["eyes=eye1", "eyes=eye2", "eyes=eye3", "facial_hair=none", "facial_hair=beard1", "gender=male", "gender=female", "facial_hair", "skin_tone"]);
  });

  it("takes numeric labels first, categorical attributes as one-hot groups, single attribute=value columns, in the given order", () => {
    expect(SelectLabelColumns(schema, ["skin_tone", "facial_hair", "gender", "eyes=eye2"])).toEqual(["skin_tone", "facial_hair", "gender=male", "gender=female", "eyes=eye2"]);
  });

  it("names the missing label and lists the known ones", () => {
    expect(() => SelectLabelColumns(schema, ["skin_tone", "glasses"])).toThrow('--labels: the data set has no label "glasses" (it has: eyes, facial_hair, gender, skin_tone)');
    expect(() => SelectLabelColumns(schema, ["eyes=eye9"])).toThrow(/no label "eyes=eye9"/);
    expect(() => SelectLabelColumns(schema, ["gender", "gender=male"])).toThrow(/named twice/);
  });
});
