import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { GeneratorPresets } from "@npc-faces/trainer";
import { CliFailure, CliInterrupted, CliUsageError, FormatErrorLine, ReportCliError } from "../../src/cli/cliErrors.js";
import { FormatBytes, FormatIndexRanges } from "../../src/cli/cliFormat.js";
import { PresetNames } from "../../src/cli/commands/exportCommand.js";

describe("CLI error reporting", () => {
  it("maps errors to exit statuses and one-line messages", () => {
    const lines: string[] = [];
    const write = (text: string) => lines.push(text);
    expect(ReportCliError(new CliUsageError("--psi: bad"), write)).toBe(2);
    expect(ReportCliError(new CliFailure("model.onnx: not an ONNX model"), write)).toBe(1);
    expect(ReportCliError(new Error("first\n  second"), write)).toBe(1);
    expect(ReportCliError(new CliInterrupted("interrupted"), write)).toBe(130);
    // Commander already printed its message: only the status is decided here.
    expect(ReportCliError(new CommanderError(1, "commander.unknownOption", "error: unknown option"), write)).toBe(2);
    expect(ReportCliError(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"), write)).toBe(0);
    expect(lines).toEqual([
      "npc-faces: error: --psi: bad\n",
      "npc-faces: error: model.onnx: not an ONNX model\n",
      "npc-faces: error: first second\n",
      "npc-faces: error: interrupted\n",
    ]);
    expect(FormatErrorLine("error: plain")).toBe("npc-faces: error: plain");
  });

  it("formats sizes and layer lists", () => {
    expect(FormatBytes(512)).toBe("512 B");
    expect(FormatBytes(208.3 * 1024)).toBe("208.3 KiB");
    expect(FormatBytes(3 * 1024 * 1024)).toBe("3.0 MiB");
    expect(FormatIndexRanges([0, 1, 2, 3, 5, 7, 8])).toBe("0-3,5,7-8");
    expect(FormatIndexRanges([])).toBe("none");
  });

  it("offers exactly the trainer's presets", () => {
    expect(PresetNames).toEqual(Object.keys(GeneratorPresets));
  });
});
