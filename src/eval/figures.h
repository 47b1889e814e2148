// Figures of the evaluations, drawn through src/plot (docs/evaluation.md "Figures"). A separate
// library target (longctx_eval_figures) so that the evaluation library itself does not plot.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/loss_eval.h"
#include "eval/needle.h"
#include "plot/charts.h"

namespace longctx::eval {

// The paper's heatmap: depth (rows, 0% at the top) x length (columns, in K tokens, K = 1000),
// the red-yellow-green scale over 0..1, a white dashed line at train_length (tokens), the mean
// score in the title. Skipped cells are grey.
plot::HeatmapConfig needle_heatmap(const NeedleConfig& cfg, const SweepSummary& s, const std::string& name,
                                   std::optional<double> train_length);
// PNG and SVG beside each other: <stem>.png and <stem>.svg.
Status render_needle_heatmap(const NeedleConfig& cfg, const SweepSummary& s, const std::string& name,
                             std::optional<double> train_length, const std::string& stem);
// Several sweeps on one figure (needle compare), one colour scale.
Status render_needle_compare(const std::vector<NeedleConfig>& cfgs, const std::vector<SweepSummary>& runs,
                             const std::vector<std::string>& names, std::optional<double> train_length,
                             const std::string& path);

// Mean loss against context position (the upper edge of each bucket on a log2 axis), one line
// per result.
Status render_loss_curves(const std::vector<LossEvalResult>& results, const std::vector<std::string>& names,
                          const std::string& path);
// The difference table as coloured cells: red = worse, green = better, grey = no difference.
Status render_loss_difference(const LossDiffTable& t, const std::string& path);

}  // namespace longctx::eval
