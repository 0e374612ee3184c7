/**
 * Progress bar and Ctrl-C handling shared by the two forms of `npc-faces bake` (`--seeds` and `--manifest`).
 */
import cliProgress from "cli-progress";
import { ToolName } from "../toolInfo.js";
import { CliInterrupted } from "./cliErrors.js";

/** A cli-progress bar on stderr with the given format, or undefined when progress is off or stderr is no TTY. */
export function CreateBakeProgressBar(enabled: boolean, format: string): cliProgress.SingleBar | undefined {
  return enabled && process.stderr.isTTY
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 32,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
}

/** The installed SIGINT handler: its abort signal, and a function that uninstalls it. */
export interface BakeInterruptHandler {
  interrupt: AbortController;
  remove: () => void;
}

/**
 * Installs a SIGINT handler: the first Ctrl-C aborts `interrupt` with a CliInterrupted carrying `message` (so the
 * bake stops after the file being written); a second one stops `bar`, removes the temporary files of writes in
 * progress (`removePendingTempFiles`) and exits at once with status 130.
 */
export function InstallInterruptHandler(bar: cliProgress.SingleBar | undefined, message: string, removePendingTempFiles: () => void): BakeInterruptHandler {
  const interrupt = new AbortController();
  const onInterrupt = (): void => {
    if (!interrupt.signal.aborted) {
      interrupt.abort(new CliInterrupted(message));
      return;
    }
    bar?.stop();
    removePendingTempFiles();
    process.stderr.write(`${ToolName}: error: interrupted\n`);
    process.exit(130);
  };
  process.on("SIGINT", onInterrupt);
  return { interrupt, remove: () => process.off("SIGINT", onInterrupt) };
}
