#include "mix/compare.h"

#include <fmt/format.h>

#include "core/units.h"

#include "store/packed_manifest.h"

namespace longctx {

Result<MixReport> read_mix_report(const std::string& dir) {
  LONGCTX_ASSIGN_OR_RETURN(PackedManifest m, read_packed_manifest(dir));
  if (m.report.is_null()) return make_error(ErrorCode::kCorrupt, "'{}/manifest.json' has no mixture report", dir);
  return report_from_json(m.report);
}

std::string compare_table(const std::vector<MixReport>& reports, const std::vector<std::string>& names) {
  if (reports.empty()) return {};
  const MixReport& first = reports[0];
  const std::string th = fmt::format(">{}", format_length(first.long_threshold));
  std::string t = "| domain | store share | store " + th + " |";
  std::string sep = "| --- | ---: | ---: |";
  for (const auto& n : names) {
    t += fmt::format(" {} share | {} {} |", n, n, th);
    sep += " ---: | ---: |";
  }
  t += "\n" + sep + "\n";
  for (size_t i = 0; i < first.after.size(); ++i) {
    t += fmt::format("| {} | {:.2f}% | {:.1f}% |", first.before[i].name, 100 * first.before[i].token_share, 100 * first.before[i].long_share);
    for (const auto& r : reports)
      t += i < r.after.size() ? fmt::format(" {:.2f}% | {:.1f}% |", 100 * r.after[i].token_share, 100 * r.after[i].long_share) : " - | - |";
    t += "\n";
  }
  return t;
}

}  // namespace longctx
