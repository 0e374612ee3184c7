/**
 * How the CLI reports failures: one line `npc-faces: error: <message>` on stderr, exit status 2 for usage
 * errors (bad flags or values) and 1 for everything else; the stack trace only with NPC_FACES_DEBUG=1.
 */
import { CommanderError } from "commander";
import { ToolName } from "../toolInfo.js";
import { MissingPackageMessage, MissingPackageOf } from "./optionalPackages.js";

/** Exit status of a run that failed because of how it was called (bad flag, bad value). */
export const UsageExitCode = 2;
/** Exit status of a run that failed at work (bad model file, unwritable folder, generation failure). */
export const FailureExitCode = 1;

/** A bad command line found after parsing (e.g. a control name the model does not have): exits with status 2. */
export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
}

/** A runtime failure with a message meant for users as it is: exits with status 1. */
export class CliFailure extends Error {
  override readonly name = "CliFailure";
}

/** The user interrupted the run (Ctrl-C): exits with status 130, as shells do for SIGINT. */
export class CliInterrupted extends Error {
  override readonly name = "CliInterrupted";
}

/** Exit status after an interruption (128 + SIGINT). */
export const InterruptedExitCode = 130;

/** True when NPC_FACES_DEBUG asks for stack traces. */
export function IsDebugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.NPC_FACES_DEBUG;
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/** The one-line message of an error: its message with newlines folded, prefixed `npc-faces: error: `. */
export function FormatErrorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.replace(/\s*\n\s*/g, " ").trim() || "unknown error";
  return `${ToolName}: error: ${line.replace(/^error:\s*/i, "")}`;
}

/**
 * Reports an error escaping a command and returns the exit status to use. Commander's own errors were already
 * printed (see the CLI's `configureOutput`); `--help` and `--version` arrive here as status 0.
 */
export function ReportCliError(error: unknown, stderr: (text: string) => void = (t) => process.stderr.write(t)): number {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0;
    if (IsDebugEnabled() && error.stack) stderr(`${error.stack}\n`);
    return UsageExitCode;
  }
  const missing = MissingPackageOf(error);
  stderr(`${FormatErrorLine(missing === undefined ? error : MissingPackageMessage(missing))}\n`);
  if (IsDebugEnabled() && error instanceof Error && error.stack) stderr(`${error.stack}\n`);
  if (error instanceof CliInterrupted) return InterruptedExitCode;
  return error instanceof CliUsageError ? UsageExitCode : FailureExitCode;
}
