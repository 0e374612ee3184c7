/**
 * The seed editor's state (DOM-free): commands, undo/redo, slider merging, locking, dirty tracking, manifest output.
 */
import { describe, expect, it } from "vitest";
import { ManifestProblems } from "@npc-faces/runtime";
import { EditorApp, EditorInputError, FoldedLabelAttribute, FoldedLabelControls, MergeWindowMs } from "../../src/editor/page/editorApp.js";

function Clock(): { now: () => number; advance(ms: number): void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("EditorApp", () => {
  it("locks, edits, renames, removes, and undoes/redoes each step exactly", () => {
    const clock = Clock();
    const app = new EditorApp([], clock.now);
    const snapshots = [JSON.stringify(app.doc)];
    const step = (action: () => void): void => {
      action();
      clock.advance(MergeWindowMs + 1);
      snapshots.push(JSON.stringify(app.doc));
    };
    step(() => app.select(12));
    step(() => app.setParam("psi", 0.5));
    step(() => app.lock("guard_01", "Gate guard"));
    step(() => app.select(30));
    step(() => app.breed(31, 4, 0.75));
    step(() => app.lock("child", "Child"));
    step(() => app.rename("guard_01", "Old guard"));
    step(() => app.edit("guard_01"));
    step(() => app.setControl("direction_0", 1.5));
    step(() => app.lock("guard_01", "Old guard"));
    step(() => app.remove("child"));
    expect(app.doc.npcs).toEqual([{ id: "guard_01", name: "Old guard", seed: 12, psi: 0.5, controls: { direction_0: 1.5 } }]);
    for (let i = snapshots.length - 2; i >= 0; i--) {
      expect(app.undo()).toBe(true);
      expect(JSON.stringify(app.doc)).toBe(snapshots[i]);
    }
    expect(app.undo()).toBe(false);
    for (let i = 1; i < snapshots.length; i++) {
      expect(app.redo()).toBe(true);
      expect(JSON.stringify(app.doc)).toBe(snapshots[i]);
    }
    expect(app.redo()).toBe(false);
  });

  it("merges a slider drag into one undo step; a new edit clears redo", () => {
    const clock = Clock();
    const app = new EditorApp([], clock.now);
    app.select(5);
    for (const v of [0.1, 0.2, 0.3, 0.4]) {
      clock.advance(50);
      app.setParam("psi", v);
    }
    expect(app.doc.current).toEqual({ seed: 5, psi: 0.4 });
    app.undo();
    expect(app.doc.current).toEqual({ seed: 5 });
    expect(app.canRedo).toBe(true);
    app.setParam("noiseStrength", 0);
    expect(app.canRedo).toBe(false);
  });

  it("tracks unsaved changes and produces a valid manifest; refuses bad ids", () => {
    const app = new EditorApp([{ id: "a", name: "A", seed: 1 }]);
    expect(app.dirty).toBe(false);
    app.select(2);
    expect(app.dirty).toBe(false);
    app.breed(3, 2, 1);
    app.lock("b", "B");
    expect(app.dirty).toBe(true);
    const manifest = app.toManifest({ sha256: "a".repeat(64), name: "m" });
    expect(ManifestProblems(manifest)).toEqual([]);
    expect(manifest.npcs[1]).toEqual({ id: "b", name: "B", seed: 2, mixSeed: 3, mixCrossover: 2, mix: 1 });
    app.markSaved();
    expect(app.dirty).toBe(false);
    expect(() => app.lock("../evil", "x")).toThrow(EditorInputError);
    app.clearBreeding();
    expect(app.doc.current).toEqual({ seed: 2 });
  });

  it("fixes a categorical label and lets the seed draw it again, one undo step each; the manifest keeps it", () => {
    const app = new EditorApp([]);
    app.select(7);
    app.setLabel("eyes", "eye12");
    app.setLabel("gender", "female");
    expect(app.doc.current).toEqual({ seed: 7, labels: { eyes: "eye12", gender: "female" } });
    app.setLabel("eyes", undefined);
    expect(app.doc.current).toEqual({ seed: 7, labels: { gender: "female" } });
    app.lock("mira", "Mira");
    const manifest = app.toManifest({ sha256: "a".repeat(64), name: "m" });
    expect(ManifestProblems(manifest)).toEqual([]);
    expect(manifest.npcs[0]).toEqual({ id: "mira", name: "Mira", seed: 7, labels: { gender: "female" } });
    app.undo(); // the lock
    app.undo(); // eyes drawn by the seed again
    expect(app.doc.current).toEqual({ seed: 7, labels: { eyes: "eye12", gender: "female" } });
    app.undo();
    app.undo();
    expect(app.doc.current).toEqual({ seed: 7 }); // no empty labels object left behind
  });

  it("folds the label controls of attributes with many values, and only those", () => {
    const many = Array.from({ length: FoldedLabelControls + 1 }, (_, i) => `eye${i}`);
    const metadata = {
      labels: [
        { name: "eyes", offset: 0, values: many, default: many.map(() => 1 / many.length) },
        { name: "gender", offset: many.length, values: ["male", "female"], default: [0.5, 0.5] },
        { name: "skin_tone", offset: many.length + 2, values: ["skin_tone"], default: [0.5] },
      ],
    };
    const control = (label: string, kind: "label" | "sefa" = "label") => ({ name: "c", label, kind, min: 0, max: 1, default: 0, layers: [0] });
    expect(FoldedLabelAttribute(metadata, control("eyes=eye3"))?.name).toBe("eyes");
    expect(FoldedLabelAttribute(metadata, control("gender=male"))).toBeUndefined();
    expect(FoldedLabelAttribute(metadata, control("skin_tone"))).toBeUndefined();
    expect(FoldedLabelAttribute(metadata, control("eyes=eye3", "sefa"))).toBeUndefined();
    expect(FoldedLabelAttribute(metadata, control("hat=yes"))).toBeUndefined(); // not an attribute of the model
  });

  it("keeps the loaded manifest's $schema on save", () => {
    const app = new EditorApp([{ id: "a", name: "A", seed: 1 }]);
    expect("$schema" in app.toManifest({ sha256: "a".repeat(64), name: "m" })).toBe(false);
    app.schemaRef = "./node_modules/@npc-faces/runtime/schema/face-manifest.schema.json";
    const manifest = app.toManifest({ sha256: "a".repeat(64), name: "m" });
    expect(Object.keys(manifest)[0]).toBe("$schema");
    expect(ManifestProblems(manifest)).toEqual([]);
  });
});
