/**
 * The feature network's compiled ops (featureNetwork.ts: nsfwjs's InceptionV3 with BatchNormalization and ReLU
 * folded into the convolutions, its weights in tfjs tensors) written as one ONNX graph, for onnxruntime-node's native convolutions: the same
 * function in float32, several times faster than the tfjs wasm backend on a CPU (`npm run bench -- metrics`).
 *
 * The graph takes and returns tfjs's layout: input [N, 299, 299, 3] (NHWC), output [N, 2048]. Inside it runs NCHW,
 * ONNX's layout, with one transpose at each end. Keras's "same" padding is TensorFlow's SAME (the extra row or column
 * of an odd padding at the bottom and right), which is ONNX's SAME_UPPER; average pools leave the padding out of
 * the count in both.
 */
import { OnnxGraphBuilder, SerializeOnnxModel } from "../export/onnxGraphBuilder.js";
import type { FeatureGraphOp } from "./featureNetwork.js";

/** Graph input and output names of the ONNX feature network. */
export const FeatureOnnxNames = { input: "images", output: "features" } as const;

const AutoPad = (pad: "same" | "valid") => ({ string: pad === "same" ? "SAME_UPPER" : "VALID" });

/** Serialises the compiled feature graph as an ONNX model (opset 17) for `inputSize`² RGB inputs. */
export function BuildFeatureNetworkOnnx(graph: { input: string; ops: readonly FeatureGraphOp[] }, inputSize: number, dimension: number): Uint8Array {
  const g = new OnnxGraphBuilder();
  const images = g.addInput(FeatureOnnxNames.input, "float", ["N", inputSize, inputSize, 3]);
  const values = new Map<string, string>([[graph.input, g.node("Transpose", [images], { perm: { ints: [0, 3, 1, 2] } })]]);
  const get = (name: string): string => {
    const v = values.get(name);
    if (v === undefined) throw new Error(`feature network: value ${name} not computed`);
    return v;
  };
  let last = "";
  for (const op of graph.ops) {
    switch (op.kind) {
      case "conv": {
        const [kh, kw, cin, cout] = op.filter.shape;
        // tfjs's HWIO -> ONNX's OIHW.
        const src = op.filter.dataSync() as Float32Array;
        const w = new Float32Array(src.length);
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) {
          w[((o * cin + i) * kh + y) * kw + x] = src[((y * kw + x) * cin + i) * cout + o];
        }
        const inputs = [get(op.input), g.addInitializer(`${op.name}_w`, "float", [cout, cin, kh, kw], w)];
        if (op.bias) inputs.push(g.addInitializer(`${op.name}_b`, "float", [cout], op.bias.dataSync()));
        last = g.node("Conv", inputs, { kernel_shape: { ints: [kh, kw] }, strides: { ints: [...op.strides] }, auto_pad: AutoPad(op.pad) }, op.name);
        if (op.relu) last = g.node("Relu", [last], {}, `${op.name}_relu`);
        break;
      }
      case "affine": {
        const c = op.scale.size;
        const scaled = g.node("Mul", [get(op.input), g.addInitializer(`${op.name}_scale`, "float", [1, c, 1, 1], op.scale.dataSync())]);
        last = g.node("Add", [scaled, g.addInitializer(`${op.name}_offset`, "float", [1, c, 1, 1], op.offset.dataSync())], {}, op.name);
        break;
      }
      case "relu":
        last = g.node("Relu", [get(op.input)], {}, op.name);
        break;
      case "pool":
        last = g.node(op.type === "max" ? "MaxPool" : "AveragePool", [get(op.input)], { kernel_shape: { ints: [...op.size] }, strides: { ints: [...op.strides] }, auto_pad: AutoPad(op.pad) }, op.name);
        break;
      case "concat":
        // Keras concatenates channels last (axis -1 or 3); here channels are axis 1.
        if (op.axis !== -1 && op.axis !== 3) throw new Error(`feature network: unsupported Concatenate axis ${op.axis} (${op.name})`);
        last = g.node("Concat", op.inputs.map(get), { axis: { int: 1 } }, op.name);
        break;
      case "flatten":
        // Flatten in tfjs's NHWC order.
        last = g.node("Flatten", [g.node("Transpose", [get(op.input)], { perm: { ints: [0, 2, 3, 1] } })], { axis: { int: 1 } }, op.name);
        break;
    }
    values.set(op.name, last);
  }
  g.addOutput(last, FeatureOnnxNames.output, "float", ["N", dimension]);
  return SerializeOnnxModel(g.build({ name: "feature-network", producerName: "npc-faces", producerVersion: "0.1.0" }));
}
