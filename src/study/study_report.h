// The study's report (docs/reproduce.md "The report"): one self-contained HTML page built from the
// outputs in a study directory, never edited by hand. Sections whose stages have not run say so.
#pragma once
#include <string>

#include "core/status.h"

namespace longctx::study {

// Reads the study directory (study.json, stage records, the outputs' JSON) and writes
// "<dir>/report.html" (figures rendered into "<dir>/report-figures/" and embedded).
Status write_study_report(const std::string& dir);

}  // namespace longctx::study
