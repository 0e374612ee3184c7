/**
 * The label loss against a reference written here: its value and its gradient with respect to the logits (what
 * trains D's head and, through it, G), on onnxruntime.
 */
import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { OnnxGraphBuilder, SerializeOnnxModel } from "../../src/export/onnxGraphBuilder.js";
import { AddGradients } from "../../src/onnxAutodiff/buildGradients.js";
import { AddLabelLoss } from "../../src/ortTraining/trainingGraphs.js";

// Columns: skin_tone, gender=male, gender=female, eyes=a, eyes=b, eyes=c, glasses, hat. Soft targets included;
// the last image has logits far out (±40), where softplus must neither overflow nor lose its gradient.
const N = 3;
const D = 8;
const Labels = [0.3, 1, 0, 0, 0, 1, 1, 0, 0.9, 0, 1, 1, 0, 0, 0, 1, 0.5, 1, 0, 0, 1, 0, 0, 0];
const Logits = [0.2, -1.5, 0.7, 2, -0.3, 0.1, -2, 1, -0.4, 0.9, 0.9, -3, 0.5, 1.2, 0, 0.3, 40, -40, 40, 2, -40, 1, 3, -1];

const Sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const Softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

describe("the label loss", () => {
  it("is Σ over columns of softplus(l) − y·l, batch mean, with d/dl = (sigmoid(l) − y) / n: against float64, logits of ±40 included", async () => {
    const g = new OnnxGraphBuilder();
    const logits = g.addInput("logits", "float", [N, D]);
    const labels = g.addInput("labels", "float", [N, D]);
    const loss = AddLabelLoss(g, logits, labels);
    g.addOutput(loss, "loss", "float", []);
    g.addOutput(AddGradients(g, loss, [logits]).gradients.get(logits)!, "d_logits", "float", [N, D]);
    const session = await ort.InferenceSession.create(SerializeOnnxModel(g.build({ name: "label-loss", producerName: "test", producerVersion: "0" })));
    const out = await session.run({ logits: new ort.Tensor("float32", Float32Array.from(Logits), [N, D]), labels: new ort.Tensor("float32", Float32Array.from(Labels), [N, D]) });
    await session.release();

    const want = Logits.reduce((s, l, i) => s + Softplus(l) - Labels[i] * l, 0) / N;
    expect((out.loss.data as Float32Array)[0]).toBeCloseTo(want, 4);
    (out.d_logits.data as Float32Array).forEach((v, i) => expect(v, `d/dlogit ${i}`).toBeCloseTo((Sigmoid(Logits[i]) - Labels[i]) / N, 6));
  });
});
