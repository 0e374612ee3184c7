import { describe, expect, it } from "vitest";
import { ReadOnnxModel, type NpcFacesError } from "@npc-faces/runtime";
import { CraftOnnxModel, ErrorOf, PngHeader, PseudoRandomBytes, SampleMetadata } from "./onnxFixtures.js";

describe("ReadOnnxModel", () => {
  it("reads header, metadata_props and the graph interface of a valid model", () => {
    const bytes = CraftOnnxModel({ extraProps: { author: "me" }, initializers: ["w0"] });
    const info = ReadOnnxModel(bytes);
    expect(info.irVersion).toBe(8);
    expect(info.producerName).toBe("fixture");
    expect(info.producerVersion).toBe("1");
    expect(info.opsetImports).toEqual([{ domain: "", version: 17 }]);
    expect(info.metadataProps.map((e) => e.key)).toEqual(["author", "npc_faces"]);
    expect(JSON.parse(info.metadataProps[1].value)).toEqual(SampleMetadata());
    expect(info.inputNames).toEqual(["z", "z_mix", "mix", "psi", "controls", "noise_strength", "noise0", "noise1", "noise2"]);
    expect(info.outputNames).toEqual(["rgba", "image"]);
  });

  it("leaves out inputs that are initializers (IR < 4 style), as onnxruntime does", () => {
    const bytes = CraftOnnxModel({ inputs: ["z", "w0"], initializers: ["w0"] });
    expect(ReadOnnxModel(bytes).inputNames).toEqual(["z"]);
  });

  it("rejects an empty file", () => {
    const e = ErrorOf(() => ReadOnnxModel(new Uint8Array(0), "empty.onnx"));
    expect(e.code).toBe("NOT_ONNX");
    expect(e.message).toBe("empty.onnx: not an ONNX model (the file is empty)");
  });

  it("rejects truncated files with NOT_ONNX and a position", () => {
    const bytes = CraftOnnxModel();
    for (const cut of [bytes.length - 1, bytes.length - 20, 3]) {
      const e = ErrorOf(() => ReadOnnxModel(bytes.subarray(0, cut), "cut.onnx"));
      expect(e.code, `cut at ${cut}`).toBe("NOT_ONNX");
      expect(e.message).toMatch(/^cut\.onnx: not an ONNX model \(.*byte \d+.*\)$/);
    }
  });

  it("never throws anything but an NpcFacesError on any prefix of a model", () => {
    const bytes = CraftOnnxModel();
    for (let cut = 0; cut < bytes.length; cut++) {
      try {
        ReadOnnxModel(bytes.subarray(0, cut));
      } catch (error) {
        expect((error as NpcFacesError).code).toBe("NOT_ONNX");
      }
    }
  });

  it("rejects PNG bytes", () => {
    const png = new Uint8Array(200);
    png.set(PngHeader);
    const e = ErrorOf(() => ReadOnnxModel(png, "face.png"));
    expect(e.code).toBe("NOT_ONNX");
    expect(e.message).toMatch(/^face\.png: not an ONNX model/);
  });

  it("rejects a text file", () => {
    const text = new TextEncoder().encode("# npc-faces\nThis is a README, not a model.\n");
    expect(ErrorOf(() => ReadOnnxModel(text, "README.md")).code).toBe("NOT_ONNX");
    const json = new TextEncoder().encode(JSON.stringify(SampleMetadata()));
    expect(ErrorOf(() => ReadOnnxModel(json, "metadata.json")).code).toBe("NOT_ONNX");
  });

  it("rejects random bytes", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const bytes = PseudoRandomBytes(seed, 64 + (seed % 7) * 100);
      expect(ErrorOf(() => ReadOnnxModel(bytes)).code, `seed ${seed}`).toBe("NOT_ONNX");
    }
  });

  it("rejects a well-formed protobuf that is not a ModelProto (no graph, or graph with the wrong wire type)", () => {
    // field 1 (ir_version) = 8 only: valid protobuf, no graph.
    expect(ErrorOf(() => ReadOnnxModel(Uint8Array.from([0x08, 0x08]))).message).toMatch(/no graph/);
    // field 7 (graph) as a varint instead of a message.
    const e = ErrorOf(() => ReadOnnxModel(Uint8Array.from([0x08, 0x08, 0x38, 0x01])));
    expect(e.code).toBe("NOT_ONNX");
    expect(e.message).toMatch(/field 7 at byte 2 has wire type 0, expected 2/);
    // A length past the end inside the graph.
    expect(ErrorOf(() => ReadOnnxModel(Uint8Array.from([0x08, 0x08, 0x3a, 0x02, 0x5a, 0x05]))).message).toMatch(/declares 5 bytes but only 0 remain/);
  });

  it("rejects invalid UTF-8 in names", () => {
    // graph { input { name: 0xff } }
    const bytes = Uint8Array.from([0x08, 0x08, 0x3a, 0x05, 0x5a, 0x03, 0x0a, 0x01, 0xff]);
    expect(ErrorOf(() => ReadOnnxModel(bytes)).message).toMatch(/not valid UTF-8/);
  });
});
