/**
 * The label loss's two forms against a reference written here: its value and its gradient with respect to the
 * logits (what trains D's head and, through it, G), on onnxruntime.
 */
import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { OnnxGraphBuilder, SerializeOnnxModel } from "../../src/export/onnxGraphBuilder.js";
import { AddGradients } from "../../src/onnxAutodiff/buildGradients.js";
import { AddLabelLoss, CategoricalLabelGroups } from "../../src/ortTraining/trainingGraphs.js";

const Names = ["skin_tone", "gender=male", "gender=female", "eyes=a", "eyes=b", "eyes=c", "glasses", "hat=red"];
const N = 3;
const D = Names.length;
// Per image: a scalar, a gender, an eye style, a binary, a lone column; the last image has logits far out (±40).
const Labels = [0.3, 1, 0, 0, 0, 1, 1, 0, 0.9, 0, 1, 1, 0, 0, 0, 1, 0.5, 1, 0, 0, 1, 0, 0, 0];
const Logits = [0.2, -1.5, 0.7, 2, -0.3, 0.1, -2, 1, -0.4, 0.9, 0.9, -3, 0.5, 1.2, 0, 0.3, 40, -40, 40, 2, -40, 1, 3, -1];

async function RunAsync(groups: ReturnType<typeof CategoricalLabelGroups>): Promise<{ loss: number; dLogits: Float32Array }> {
  const g = new OnnxGraphBuilder();
  const logits = g.addInput("logits", "float", [N, D]);
  const labels = g.addInput("labels", "float", [N, D]);
  const loss = AddLabelLoss(g, logits, labels, D, groups);
  g.addOutput(loss, "loss", "float", []);
  g.addOutput(AddGradients(g, loss, [logits]).gradients.get(logits)!, "d_logits", "float", [N, D]);
  const session = await ort.InferenceSession.create(SerializeOnnxModel(g.build({ name: "label-loss", producerName: "test", producerVersion: "0" })));
  const out = await session.run({ logits: new ort.Tensor("float32", Float32Array.from(Logits), [N, D]), labels: new ort.Tensor("float32", Float32Array.from(Labels), [N, D]) });
  await session.release();
  return { loss: (out.loss.data as Float32Array)[0], dLogits: out.d_logits.data as Float32Array };
}

const Sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const Softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** The loss and d/dlogits in float64: logistic per column outside the groups, softmax cross-entropy per group. */
function Reference(groups: ReturnType<typeof CategoricalLabelGroups>): { loss: number; dLogits: number[] } {
  const inGroup = new Array<boolean>(D).fill(false);
  for (const { offset, count } of groups) inGroup.fill(true, offset, offset + count);
  let total = 0;
  const d = new Array<number>(N * D).fill(0);
  for (let i = 0; i < N; i++) {
    const l = Logits.slice(i * D, (i + 1) * D);
    const y = Labels.slice(i * D, (i + 1) * D);
    for (let c = 0; c < D; c++) {
      if (inGroup[c]) continue;
      total += Softplus(l[c]) - y[c] * l[c];
      d[i * D + c] = (Sigmoid(l[c]) - y[c]) / N;
    }
    for (const { offset, count } of groups) {
      const ls = l.slice(offset, offset + count);
      const ys = y.slice(offset, offset + count);
      const top = Math.max(...ls);
      const logSumExp = top + Math.log(ls.reduce((s, v) => s + Math.exp(v - top), 0));
      const ySum = ys.reduce((s, v) => s + v, 0);
      total += ySum * logSumExp - ys.reduce((s, v, k) => s + v * ls[k], 0);
      ls.forEach((v, k) => (d[i * D + offset + k] = (ySum * Math.exp(v - logSumExp) - ys[k]) / N));
    }
  }
  return { loss: total / N, dLogits: d };
}

describe("the label loss", () => {
  it("finds the categorical attributes: runs of two or more name=value columns", () => {
    expect(CategoricalLabelGroups(Names)).toEqual([
      { name: "gender", offset: 1, count: 2 },
      { name: "eyes", offset: 3, count: 3 },
    ]);
    expect(CategoricalLabelGroups(["a=1", "b", "a=2"])).toEqual([]); // not one run
    expect(CategoricalLabelGroups([])).toEqual([]);
  });

  for (const form of ["logistic", "softmax"] as const) {
    it(`${form}: the value and d/dlogits match the float64 reference, logits of ±40 included`, async () => {
      const groups = form === "softmax" ? CategoricalLabelGroups(Names) : [];
      const got = await RunAsync(groups);
      const want = Reference(groups);
      expect(got.loss).toBeCloseTo(want.loss, 4);
      got.dLogits.forEach((v, i) => expect(v, `d/dlogit ${i}`).toBeCloseTo(want.dLogits[i], 5));
    });
  }

  it("the two forms agree on the columns outside the categorical attributes and differ inside them", async () => {
    const logistic = await RunAsync([]);
    const softmax = await RunAsync(CategoricalLabelGroups(Names));
    expect(Math.abs(logistic.loss - softmax.loss)).toBeGreaterThan(1);
    // Columns outside the groups have the same gradient in both forms.
    for (const c of [0, 6, 7]) for (let i = 0; i < N; i++) expect(softmax.dLogits[i * D + c]).toBeCloseTo(logistic.dLogits[i * D + c], 6);
  });
});
