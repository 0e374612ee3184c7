/**
 * The seed editor's state (DOM-free): commands, undo/redo, slider merging, locking, dirty tracking, manifest output.
 */
import { describe, expect, it } from "vitest";
import { ManifestProblems } from "@npc-faces/runtime";
import { EditorApp, EditorInputError, MergeWindowMs } from "../../src/editor/page/editorApp.js";

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

  it("keeps the loaded manifest's $schema on save", () => {
    const app = new EditorApp([{ id: "a", name: "A", seed: 1 }]);
    expect("$schema" in app.toManifest({ sha256: "a".repeat(64), name: "m" })).toBe(false);
    app.schemaRef = "./node_modules/@npc-faces/runtime/schema/face-manifest.schema.json";
    const manifest = app.toManifest({ sha256: "a".repeat(64), name: "m" });
    expect(Object.keys(manifest)[0]).toBe("$schema");
    expect(ManifestProblems(manifest)).toEqual([]);
  });
});
