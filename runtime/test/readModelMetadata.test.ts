import { describe, expect, it } from "vitest";
import { ExpectedInputNames, ReadModelFile, ReadModelMetadata } from "@npc-faces/runtime";
import { ConditionalMetadata, CraftOnnxModel, ErrorOf, PngHeader, SampleMetadata } from "./onnxFixtures.js";

describe("ReadModelMetadata", () => {
  it("returns the validated metadata of a valid model", () => {
    expect(ReadModelMetadata(CraftOnnxModel())).toEqual(SampleMetadata());
    const conditional = CraftOnnxModel({ metadata: ConditionalMetadata() });
    expect(ReadModelFile(conditional).onnx.inputNames).toContain("label");
    expect(ReadModelMetadata(conditional).labels).toHaveLength(2);
  });

  it("expects controls only with K > 0 and label only with labelDim > 0, noise inputs per resolution", () => {
    expect(ExpectedInputNames(SampleMetadata({ controls: [], noiseResolutions: [4] }))).toEqual(["z", "z_mix", "mix", "psi", "noise_strength", "noise0"]);
    expect(ExpectedInputNames(ConditionalMetadata())).toEqual(["z", "z_mix", "mix", "psi", "controls", "label", "noise_strength", "noise0", "noise1", "noise2"]);
  });

  it("fails with NOT_ONNX on a PNG", () => {
    expect(ErrorOf(() => ReadModelMetadata(PngHeader, "a.png")).code).toBe("NOT_ONNX");
  });

  it("fails with NOT_NPC_FACES_MODEL on an ONNX model without the key", () => {
    const e = ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: null, inputs: ["x"], outputs: ["y"], extraProps: { other: "1" } }), "resnet.onnx"));
    expect(e.code).toBe("NOT_NPC_FACES_MODEL");
    expect(e.message).toBe('resnet.onnx: an ONNX model (produced by "fixture") but not an npc-faces model (no "npc_faces" entry in metadata_props)');
  });

  it("fails with FORMAT_TOO_NEW on formatVersion 2, before checking the schema", () => {
    const newer = { ...SampleMetadata(), formatVersion: 2, somethingNew: true, resolution: "whatever" };
    const e = ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: newer, inputs: [], outputs: [] }), "future.onnx"));
    expect(e.code).toBe("FORMAT_TOO_NEW");
    expect(e.message).toBe("future.onnx: model format version 2 is newer than this runtime reads (version 1); upgrade @npc-faces/runtime");
  });

  it("fails with BAD_METADATA naming the zod issue path", () => {
    const bad = SampleMetadata();
    (bad.controls[1] as { name: string }).name = "Not An Identifier";
    const e = ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: bad }), "m.onnx"));
    expect(e.code).toBe("BAD_METADATA");
    expect(e.message).toMatch(/^m\.onnx: metadata "npc_faces": controls\[1\]\.name: expected a lowercase identifier/);
    expect(e.message).not.toContain("\n");

    const missing = { ...SampleMetadata() } as Partial<ReturnType<typeof SampleMetadata>>;
    delete missing.zDim;
    expect(ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: missing, inputs: [] }))).message).toMatch(/zDim: /);
  });

  it("fails with BAD_METADATA on invalid JSON, a non-object, a wrong format name", () => {
    expect(ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: "{not json", inputs: [] }))).message).toMatch(/is not valid JSON/);
    expect(ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: "[1,2]", inputs: [] }))).message).toMatch(/is not a JSON object/);
    const e = ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: { ...SampleMetadata(), format: "other" } })));
    expect(e.code).toBe("BAD_METADATA");
    expect(e.message).toMatch(/format: expected "npc-faces-model", got "other"/);
  });

  it("fails with BAD_METADATA on cross-field errors (layer out of range, duplicate control, label past labelDim)", () => {
    const layer = SampleMetadata();
    (layer.controls[0].layers as number[]).push(4);
    expect(ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: layer }))).message).toMatch(/controls\[0\]\.layers\[2\]: layer 4 out of range \(numWs = 4\)/);
    const dup = SampleMetadata();
    dup.controls[1] = { ...dup.controls[0] };
    expect(ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: dup }))).message).toMatch(/controls\[1\]\.name: duplicate control "smile"/);
    const label = ConditionalMetadata();
    label.labelDim = 3;
    expect(ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: label }))).message).toMatch(/labels\[1\]: offset 3 \+ 1 values exceed labelDim 3/);
    const table = { ...ConditionalMetadata(), labelTable: [[1, 0, 0, 1], [0, 1, 0]] };
    expect(ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: table }))).message).toMatch(/labelTable\[1\]: expected 4 values \(labelDim\), got 3/);
  });

  it("fails with BAD_METADATA on two npc_faces entries", () => {
    const bytes = CraftOnnxModel({ extraProps: { npc_faces: JSON.stringify(SampleMetadata()) } });
    expect(ErrorOf(() => ReadModelMetadata(bytes)).message).toMatch(/holds 2 "npc_faces" entries/);
  });

  it("fails with GRAPH_MISMATCH naming missing and unexpected tensors", () => {
    const inputs = ExpectedInputNames(SampleMetadata()).filter((n) => n !== "noise2");
    const e = ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ inputs: [...inputs, "noise3"], outputs: ["rgba"] }), "m.onnx"));
    expect(e.code).toBe("GRAPH_MISMATCH");
    expect(e.message).toBe('m.onnx: the graph does not match its metadata: missing input "noise2"; unexpected input "noise3"; missing output "image"');
    // A model with controls in the graph but none in the metadata.
    const noControls = SampleMetadata({ controls: [] });
    const e2 = ErrorOf(() => ReadModelMetadata(CraftOnnxModel({ metadata: noControls, inputs: ExpectedInputNames(SampleMetadata()) })));
    expect(e2.message).toMatch(/unexpected input "controls"/);
  });
});
