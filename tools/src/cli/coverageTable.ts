/** The human table of `npc-faces metrics`'s attribute coverage (one row per categorical label). */
import type { AttributeCoverageReport } from "../metrics/attributeCoverage.js";
import { FormatTable } from "./cliFormat.js";

/**
 * Lines of the coverage table: effective classes and classes at half their training share, real vs generated,
 * and for a conditional model how often a face shows the value its labels asked for (and, measured, the values set
 * in the request that it shows).
 */
export function FormatCoverageTable(report: AttributeCoverageReport): string[] {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
  const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : "n/a");
  const withSetLabels = report.attributes.some((a) => a.setLabel);
  return [
    `attribute coverage (probe: ${report.probeFeatures}, fitted on ${report.probeImages} training images${report.probes === "read" ? ", read from --probes" : ""}; ${report.realCount} held-out real vs ${report.generatedCount} generated):`,
    ...FormatTable(
      [
        [
          "attribute", "classes", "probe acc", "effective real", "effective gen", "gen/real", "at half share real", "at half share gen", "follows label",
          ...(withSetLabels ? ["set label read back (values reached)"] : []),
        ],
        ...report.attributes.map((a) => [
          a.attribute,
          `${a.trainingClasses}`,
          `${pct(a.probeAccuracy)} (base ${pct(a.probeBaseline)})`,
          f(a.real.effectiveClasses),
          f(a.generated.effectiveClasses),
          Number.isFinite(a.effectiveRatio) ? a.effectiveRatio.toFixed(2) : "n/a",
          `${a.real.classesAtHalfShare}/${a.trainingClasses}`,
          `${a.generated.classesAtHalfShare}/${a.trainingClasses}`,
          a.labelAgreement === undefined ? "-" : pct(a.labelAgreement),
          ...(withSetLabels ? [a.setLabel ? `${pct(a.setLabel.readBack)} (${a.setLabel.valuesReached}/${a.setLabel.values})` : "-"] : []),
        ]),
      ],
      "  ",
    ),
  ];
}
