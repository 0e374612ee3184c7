/**
 * numpy scalars in pickles: NVIDIA's modules keep gains such as `weight_gain = lr_multiplier / np.sqrt(n)` as
 * numpy float64 attributes, pickled as `numpy.core.multiarray.scalar(numpy.dtype("f8"), raw bytes)`. These
 * whitelisted globals decode the numeric dtypes to numbers; nothing of numpy runs.
 */
import type { PickleGlobal } from "./pickleMachine.js";
import { PyObject, PyTuple, PyTypeName } from "./pythonValues.js";

const DtypeClass = "numpy.dtype";

/** `numpy.dtype(name, align, copy)`: a data object whose state (BUILD) carries the byte order. */
const NumpyDtype: PickleGlobal = (args) => {
  if (typeof args[0] !== "string") throw new Error(`expected a dtype name, found ${PyTypeName(args[0])}`);
  return new PyObject(DtypeClass, args);
};

/** `numpy.core.multiarray.scalar(dtype, bytes)`: the scalar's value as a number (or boolean). */
const NumpyScalar: PickleGlobal = (args) => {
  const [dtype, data] = args;
  if (!(dtype instanceof PyObject) || dtype.className !== DtypeClass || !(data instanceof Uint8Array)) throw new Error("expected a dtype and bytes");
  const name = dtype.args[0] as string;
  const order = dtype.state instanceof PyTuple ? dtype.state.items[1] : "<";
  if (order === ">") throw new Error("big-endian numpy scalars are not supported");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const readers: Record<string, [number, (v: DataView) => number | boolean]> = {
    f8: [8, (v) => v.getFloat64(0, true)],
    f4: [4, (v) => v.getFloat32(0, true)],
    i8: [8, (v) => Number(v.getBigInt64(0, true))],
    i4: [4, (v) => v.getInt32(0, true)],
    u8: [8, (v) => Number(v.getBigUint64(0, true))],
    u4: [4, (v) => v.getUint32(0, true)],
    b1: [1, (v) => v.getUint8(0) !== 0],
  };
  const reader = readers[name];
  if (!reader) throw new Error(`numpy scalar of dtype "${name}" is not supported`);
  if (data.length !== reader[0]) throw new Error(`numpy ${name} scalar with ${data.length} bytes`);
  return reader[1](view);
};

/** The numpy globals (numpy 1.x and 2.x module paths). */
export function NumpyScalarGlobals(): Map<string, PickleGlobal> {
  return new Map([
    ["numpy.dtype", NumpyDtype],
    ["numpy.core.multiarray.scalar", NumpyScalar],
    ["numpy._core.multiarray.scalar", NumpyScalar],
  ]);
}
