// Finished mixtures side by side (`longctx mix compare`; paper Figure 2): each mixture's report,
// read back from its manifest, and one table of domain shares and long-document shares.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "mix/report.h"

namespace longctx {

// The report a finished mixture directory holds in manifest.json ("report").
Result<MixReport> read_mix_report(const std::string& dir);

// A Markdown table: one row per domain (the first report's domain order), the store's token
// share and long share (from the first report's "before"), then each mixture's token share and
// long share under its name. A mixture with fewer domains shows "-" for the missing ones. Long
// means more tokens than the first report's threshold.
std::string compare_table(const std::vector<MixReport>& reports, const std::vector<std::string>& names);

}  // namespace longctx
