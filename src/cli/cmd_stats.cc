// longctx stats
#include "cli/cmd_stats.h"

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/file_io.h"
#include "core/json_util.h"
#include "core/validate.h"
#include "stats/stats.h"
#include "stats/stats_figure.h"

namespace longctx::cli {

Status StatsOptions::validate() const {
  // A store document has at most 2^32 - 1 tokens (docs/store.md: num_tokens is a u32), so larger
  // thresholds say nothing.
  for (uint64_t t : thresholds) LONGCTX_RETURN_IF_ERROR(check_range("--threshold", t, uint64_t{0}, uint64_t{UINT32_MAX}));
  if (json == "-" || markdown == "-")
    return make_error(ErrorCode::kInvalidArgument, "{} -: to print the statistics as JSON or Markdown, use --format json or --format markdown",
                      json == "-" ? "--json" : "--markdown");
  return Status::ok();
}

Status run_stats(const StatsOptions& o) {
  std::vector<OutputSpec> outs = {{o.json, &kinds::kStatsJson, "--json"}, {o.markdown, &kinds::kMarkdown, "--markdown"}};
  for (const auto& f : o.figures) outs.push_back({f, &kinds::kFigure, "--figure"});
  LONGCTX_RETURN_IF_ERROR(check_outputs(outs, o.overwrite));
  LONGCTX_ASSIGN_OR_RETURN(DocumentStore s, DocumentStore::open(o.store));
  StatsConfig cfg;
  cfg.long_thresholds = o.thresholds;
  CorpusStats st = compute_stats(s, cfg);
  if (o.format == "json") fmt::print("{}\n", stats_json(st).dump(2));
  else if (o.format == "markdown") fmt::print("{}", stats_markdown(st));
  else fmt::print("{}", stats_table(st));
  if (!o.json.empty()) LONGCTX_RETURN_IF_ERROR(write_json_atomic(o.json, stats_json(st)));
  if (!o.markdown.empty()) LONGCTX_RETURN_IF_ERROR(write_file_atomic(o.markdown, stats_markdown(st)));
  for (const auto& f : o.figures) {
    LONGCTX_RETURN_IF_ERROR(draw_stats_figure(st, f, "Tokens by document length: " + o.store));
    fmt::print(stderr, "wrote {}\n", f);
  }
  return Status::ok();
}

void register_stats_commands(CLI::App& app) {
  auto o = std::make_shared<StatsOptions>();
  auto* c = app.add_subcommand("stats", "Domain x length statistics of a store: table, JSON, Markdown and a figure");
  c->add_option("store", o->store, "Store directory")->required();
  add_number(c, "--threshold", o->thresholds, "Long-document thresholds in tokens (repeatable)")->delimiter(',');
  c->add_option("--format", o->format, "What to print: table, json or markdown")->capture_default_str()->check(CLI::IsMember({"table", "json", "markdown"}));
  c->add_option("--json", o->json, "Also write JSON to this file");
  c->add_option("--markdown", o->markdown, "Also write Markdown to this file");
  c->add_option("--figure", o->figures, "Draw the domain x length distribution (.png or .svg; repeatable)");
  c->add_flag("--overwrite", o->overwrite, "Replace existing statistics files and figures of the same kind");
  set_examples(c, {"longctx stats data/store --figure stats.png --figure stats.svg --json stats.json"});
  set_run(c, o, run_stats);
}

}  // namespace longctx::cli
