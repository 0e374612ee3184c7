/**
 * The face parameters a crowd member and a material plugin share: the same setters build the same request, serialise
 * to the same fields and notify a change (the crowd, or the plugin's debounced regeneration). No model is needed.
 */
import { describe, expect, it } from "vitest";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { NpcFaceCrowdMember, NpcFaceMaterialPlugin } from "@npc-faces/babylon";
import { CreateNullScene } from "./pluginTestScene.js";

/** What both classes expose to set a face's parameters. */
type FaceParameterTarget = NpcFaceCrowdMember | NpcFaceMaterialPlugin;

/** Every plain parameter, mixing included (set through the setters, as a game does). */
const Everything = { seed: 123456789, mixSeed: 31337, mix: 0.75, mixCrossover: 2, psi: 0.6, noiseStrength: 0.5 };

function SetEverything(target: FaceParameterTarget): void {
  Object.assign(target, Everything);
  target.setControl("direction_0", 1.25);
  target.setLabel("hair", "dark");
}

const EverythingRequest = { ...Everything, controls: { direction_0: 1.25 }, labels: { hair: "dark" } };
const EverythingParameters = '"seed":123456789,"mixSeed":31337,"mix":0.75,"mixCrossover":2,"psi":0.6,"noiseStrength":0.5,"labels":{"hair":"dark"},"control_direction_0":1.25';

/** A crowd member whose crowd only counts the changes it is told of. */
function CreateMember(): { member: NpcFaceCrowdMember; changes: () => number } {
  let changes = 0;
  const member = new NpcFaceCrowdMember({ _onMemberChanged: () => changes++ });
  return { member, changes: () => changes };
}

/** A plugin on a material of a scene without a face system: its changes schedule a generation (isGenerating). */
function CreatePlugin(scene = CreateNullScene().scene): NpcFaceMaterialPlugin {
  return new NpcFaceMaterialPlugin(new StandardMaterial("npc", scene));
}

describe.each([
  ["NpcFaceCrowdMember", () => CreateMember().member],
  ["NpcFaceMaterialPlugin", () => CreatePlugin()],
] as const)("%s: face parameters", (_, create: () => FaceParameterTarget) => {
  it("builds the request of its parameters: mixing only with mix > 0, psi, noise, controls and labels only when set", () => {
    const target = create();
    expect(target.request).toEqual({ seed: 0 });
    SetEverything(target);
    expect(target.request).toEqual(EverythingRequest);
    target.mix = 0;
    target.setLabel("hair", undefined);
    const { mixSeed: _mixSeed, mix: _mix, mixCrossover: _mixCrossover, labels: _labels, ...withoutMixOrLabels } = EverythingRequest;
    expect(target.request).toEqual(withoutMixOrLabels);
    expect(target.getLabel("hair")).toBeUndefined();
  });

  it("serialises its parameters in the material plugin's format and order", () => {
    const target = create();
    SetEverything(target);
    expect(JSON.stringify(target.serialize())).toContain(EverythingParameters);
  });
});

describe("NpcFaceCrowdMember: face parameters", () => {
  it("tells its crowd of each change, not of a value set again", () => {
    const { member, changes } = CreateMember();
    SetEverything(member);
    expect(changes()).toBe(8);
    SetEverything(member);
    expect(changes()).toBe(8);
    member.setControl("direction_0", undefined);
    expect(member.getControl("direction_0")).toBeUndefined();
    expect(changes()).toBe(9);
  });

  it("unset psi, noise and controls are undefined (the model's defaults); set() restores serialize() and keeps what is absent or ill-typed", () => {
    const { member } = CreateMember();
    expect([member.psi, member.noiseStrength, member.getControl("direction_0")]).toEqual([undefined, undefined, undefined]);
    SetEverything(member);
    member.name = "baker";
    expect(JSON.stringify(member.serialize())).toBe(`{${EverythingParameters},"name":"baker"}`);
    const copy = CreateMember().member.set(member.serialize());
    expect([copy.name, copy.request]).toEqual(["baker", EverythingRequest]);
    copy.set({ seed: "7", psi: null, labels: { hair: 3 } } as never);
    expect(copy.request).toEqual(EverythingRequest);
  });
});

describe("NpcFaceMaterialPlugin: face parameters", () => {
  it("schedules a regeneration on each change, not on a value set again", async () => {
    const plugin = CreatePlugin();
    await plugin.whenSettledAsync(); // no system: the first face has nothing to wait for
    SetEverything(plugin);
    expect(plugin.isGenerating).toBe(true);
    await plugin.whenSettledAsync();
    SetEverything(plugin);
    expect(plugin.isGenerating).toBe(false);
    plugin.mixSeed = 1;
    expect(plugin.isGenerating).toBe(true);
  });

  it("unset psi, noise and controls read as defaults (1, 1, 0 before the model is loaded); parse() restores serialize() and keeps what is absent or ill-typed", () => {
    const plugin = CreatePlugin();
    expect([plugin.psi, plugin.noiseStrength, plugin.getControl("direction_0")]).toEqual([1, 1, 0]);
    SetEverything(plugin);
    expect(plugin.controls).toEqual({ direction_0: 1.25 });
    const serialized = plugin.serialize();
    expect(JSON.stringify(serialized)).toContain(`${EverythingParameters},"isEnabled":true,"flipV":false`);
    const { scene } = CreateNullScene();
    const copy = CreatePlugin(scene);
    copy.parse(serialized, scene, "");
    expect(copy.request).toEqual(EverythingRequest);
    copy.parse({ seed: "7", psi: null, labels: { hair: 3 } }, scene, "");
    expect(copy.request).toEqual(EverythingRequest);
  });
});
