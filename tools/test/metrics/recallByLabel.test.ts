/** Recall per label value: grouping, order, and a missing label named. */
import { describe, expect, it } from "vitest";
import { RecallByLabelOf } from "../../src/metrics/recallByLabel.js";

const Images = [
  { file: "images/0.png", labels: { glasses: "none", gender: "male" } },
  { file: "images/1.png", labels: { glasses: "round", gender: "female" } },
  { file: "images/2.png", labels: { glasses: "none", gender: "female" } },
  { file: "images/3.png", labels: { glasses: "none", gender: "male" } },
  { file: "images/4.png", labels: { glasses: "square", gender: "male" } },
];

describe("RecallByLabelOf", () => {
  it("gives each value's share of recalled images, lowest first, more images first on a tie", () => {
    const by = RecallByLabelOf(Images, Uint8Array.of(1, 0, 1, 0, 0), ["glasses", "gender"]);
    expect(by.glasses).toEqual([
      { value: "round", images: 1, recall: 0 },
      { value: "square", images: 1, recall: 0 },
      { value: "none", images: 3, recall: 2 / 3 },
    ]);
    expect(by.gender).toEqual([
      { value: "male", images: 3, recall: 1 / 3 },
      { value: "female", images: 2, recall: 1 / 2 },
    ]);
    expect(RecallByLabelOf(Images, new Uint8Array(5), ["gender"]).gender.map((v) => [v.value, v.recall])).toEqual([["male", 0], ["female", 0]]);
  });

  it("names the image that lacks a label", () => {
    expect(() => RecallByLabelOf(Images, Uint8Array.of(1, 0, 0, 0, 0), ["hat"])).toThrow('--recall-by: images/0.png has no label "hat"');
  });
});
