/**
 * PyTorch tensors as pickles describe them: a storage (a dtype and raw little-endian bytes, read lazily) and a
 * view of it (offset, shape, strides), rebuilt by the whitelisted globals `torch._utils._rebuild_tensor_v2` and
 * `_rebuild_parameter`. {@link TensorToFloat32} turns any float tensor into row-major float32 values.
 */
import { NewDict, type PickleGlobal } from "./pickleMachine.js";
import { PyTuple, PyTypeName, type PyValue } from "./pythonValues.js";

/** Element types of torch storages this importer reads. */
export type TorchDtype = "float32" | "float16" | "bfloat16" | "float64" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";

/** Bytes per element. */
export const TorchDtypeSize: Record<TorchDtype, number> = { float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 };

/** torch's storage classes (as pickles name them: `torch.FloatStorage`) and their dtypes. */
export const StorageClassDtypes: ReadonlyMap<string, TorchDtype> = new Map([
  ["torch.FloatStorage", "float32"],
  ["torch.HalfStorage", "float16"],
  ["torch.BFloat16Storage", "bfloat16"],
  ["torch.DoubleStorage", "float64"],
  ["torch.LongStorage", "int64"],
  ["torch.IntStorage", "int32"],
  ["torch.ShortStorage", "int16"],
  ["torch.CharStorage", "int8"],
  ["torch.ByteStorage", "uint8"],
  ["torch.BoolStorage", "bool"],
]);

/** A storage: `numel` elements of `dtype`, whose bytes are read on first use. */
export class TorchStorage {
  private bytes: Uint8Array | undefined;
  constructor(
    readonly dtype: TorchDtype,
    readonly numel: number,
    private readonly load: () => Uint8Array,
  ) {}

  /** The raw bytes (exactly `numel` elements). */
  data(): Uint8Array {
    if (!this.bytes) {
      const bytes = this.load();
      const size = this.numel * TorchDtypeSize[this.dtype];
      if (bytes.length < size) throw new Error(`a ${this.dtype} storage of ${this.numel} elements has only ${bytes.length} bytes`);
      this.bytes = bytes.subarray(0, size);
    }
    return this.bytes;
  }
}

/** A tensor: a strided view of a storage. */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** The dtype named by a storage class global, or undefined. */
export function StorageClassDtype(value: PyValue): TorchDtype | undefined {
  return value !== null && typeof value === "object" && "qualifiedName" in value ? StorageClassDtypes.get((value as { qualifiedName: string }).qualifiedName) : undefined;
}

function IntList(value: PyValue, what: string): number[] {
  const items = value instanceof PyTuple ? value.items : Array.isArray(value) ? value : undefined;
  if (!items || !items.every((v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0)) throw new Error(`${what}: expected a tuple of sizes, found ${PyTypeName(value)}`);
  return items as number[];
}

/** `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
const RebuildTensor: PickleGlobal = (args) => {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage)) throw new Error(`expected a storage, found ${PyTypeName(storage)}`);
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) throw new Error("bad storage offset");
  const shape = IntList(size, "size");
  const strides = IntList(stride, "stride");
  if (shape.length !== strides.length) throw new Error("size and stride differ in length");
  const tensor = new TorchTensor(storage, offset, shape, strides);
  // The largest element a view reaches must lie inside the storage.
  const last = offset + shape.reduce((sum, n, i) => sum + (n > 0 ? (n - 1) * strides[i] : 0), 0);
  if (tensor.numel > 0 && last >= storage.numel) throw new Error(`a tensor view reaches element ${last} of a storage of ${storage.numel}`);
  return tensor;
};

/** `torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)`: a Parameter is its tensor here. */
const RebuildParameter: PickleGlobal = (args) => {
  if (!(args[0] instanceof TorchTensor)) throw new Error(`expected a tensor, found ${PyTypeName(args[0])}`);
  return args[0];
};

/** A storage class global is a type marker (persistent ids name it); calling one would run torch code. */
const StorageClass: PickleGlobal = () => {
  throw new Error("a storage class is not callable here");
};

/** The globals torch's tensor pickling uses, plus `collections.OrderedDict` (state dicts, module dicts). */
export function TorchTensorGlobals(): Map<string, PickleGlobal> {
  const globals = new Map<string, PickleGlobal>([
    ["torch._utils._rebuild_tensor_v2", RebuildTensor],
    ["torch._utils._rebuild_tensor", RebuildTensor],
    ["torch._utils._rebuild_parameter", RebuildParameter],
    ["torch._utils._rebuild_parameter_with_state", RebuildParameter],
    ["collections.OrderedDict", () => NewDict()],
  ]);
  for (const name of StorageClassDtypes.keys()) globals.set(name, StorageClass);
  return globals;
}

/** float16 bits -> number. */
function HalfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A float tensor's values in row-major order as float32 (fp16, bf16 and fp64 are converted). */
export function TensorToFloat32(tensor: TorchTensor): Float32Array {
  const { storage, shape, stride, offset } = tensor;
  if (!["float32", "float16", "bfloat16", "float64"].includes(storage.dtype)) throw new Error(`expected a float tensor, found ${storage.dtype}`);
  const bytes = storage.data();
  const rank = shape.length;
  const contiguous = shape.every((_, d) => stride[d] === shape.slice(d + 1).reduce((a, b) => a * b, 1));
  if (contiguous && storage.dtype === "float32") {
    // The common case, copied in one go (slice: the storage's bytes need not be 4-byte aligned in the file).
    const start = bytes.byteOffset + offset * 4;
    return new Float32Array(bytes.buffer.slice(start, start + tensor.numel * 4));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read: (i: number) => number =
    storage.dtype === "float32"
      ? (i) => view.getFloat32(i * 4, true)
      : storage.dtype === "float64"
        ? (i) => view.getFloat64(i * 8, true)
        : storage.dtype === "float16"
          ? (i) => HalfToNumber(view.getUint16(i * 2, true))
          : (i) => {
              const f = new DataView(new ArrayBuffer(4));
              f.setUint32(0, view.getUint16(i * 2, true) << 16, true);
              return f.getFloat32(0, true);
            };
  const out = new Float32Array(tensor.numel);
  const index = new Array<number>(rank).fill(0);
  for (let n = 0; n < out.length; n++) {
    let at = offset;
    for (let d = 0; d < rank; d++) at += index[d] * stride[d];
    out[n] = read(at);
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
