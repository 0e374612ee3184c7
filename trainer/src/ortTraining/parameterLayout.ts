/**
 * The trainer stores parameters in tfjs layouts (conv weights HWIO [k, k, in, out]); onnxruntime's Conv wants OIHW
 * [out, in, k, k]. The onnxruntime engine keeps its parameters, gradients and Adam moments in the ONNX layout and
 * converts at the checkpoint boundary only: a layout Transpose inside the graphs costs ~25 ms per 512×512 3×3
 * weight per run (onnxruntime-node 1.30 CPU), as much as the convolution itself.
 */
import type { ParameterSpec } from "../networks/architecture.js";

/** [k, k, in, out] (HWIO) -> [out, in, k, k] (OIHW). */
export function HwioToOihw(hwio: Float32Array, k: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(hwio.length);
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++)
      for (let i = 0; i < cin; i++) {
        const src = ((y * k + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * k + y) * k + x] = hwio[src + o];
      }
  return out;
}

/** [out, in, k, k] (OIHW) -> [k, k, in, out] (HWIO). */
export function OihwToHwio(oihw: Float32Array, k: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(oihw.length);
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++)
      for (let i = 0; i < cin; i++) {
        const dst = ((y * k + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[dst + o] = oihw[((o * cin + i) * k + y) * k + x];
      }
  return out;
}

/** True for conv weights (4-D HWIO specs), the only parameters whose layout differs. */
function IsConvWeight(spec: ParameterSpec): boolean {
  return spec.shape.length === 4;
}

/** The parameter's shape in the ONNX graphs. */
export function OnnxParameterShape(spec: ParameterSpec): number[] {
  const s = spec.shape;
  return IsConvWeight(spec) ? [s[3], s[2], s[0], s[1]] : [...s];
}

/** Stored (checkpoint) values -> the ONNX layout (a copy). */
export function ToOnnxLayout(spec: ParameterSpec, values: Float32Array): Float32Array {
  const s = spec.shape;
  return IsConvWeight(spec) ? HwioToOihw(values, s[0], s[2], s[3]) : Float32Array.from(values);
}

/** ONNX-layout values -> the stored (checkpoint) layout (a copy). */
export function FromOnnxLayout(spec: ParameterSpec, values: Float32Array): Float32Array {
  const s = spec.shape;
  return IsConvWeight(spec) ? OihwToHwio(values, s[0], s[2], s[3]) : Float32Array.from(values);
}
