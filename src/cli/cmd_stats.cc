// longctx stats
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "core/file_io.h"
#include "core/json_util.h"
#include "mix/stats.h"
#include "mix/stats_figure.h"

namespace longctx::cli {

void register_stats_commands(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto thresholds = std::make_shared<std::vector<uint64_t>>(std::vector<uint64_t>{4096});
  auto json_out = std::make_shared<std::string>();
  auto md_out = std::make_shared<std::string>();
  auto fig_out = std::make_shared<std::vector<std::string>>();
  auto format = std::make_shared<std::string>("table");
  auto* c = app.add_subcommand("stats", "Domain x length statistics of a store: table, JSON, Markdown and a figure");
  c->add_option("store", *dir, "Store directory")->required();
  c->add_option("--threshold", *thresholds, "Long-document thresholds in tokens (repeatable)")->capture_default_str()->delimiter(',');
  c->add_option("--format", *format, "What to print: table, json or markdown")->capture_default_str()->check(CLI::IsMember({"table", "json", "markdown"}));
  c->add_option("--json", *json_out, "Also write JSON to this file");
  c->add_option("--markdown", *md_out, "Also write Markdown to this file");
  c->add_option("--figure", *fig_out, "Draw the domain x length distribution (.png or .svg; repeatable)");
  c->footer("Example:\n  longctx stats data/store --figure stats.png --figure stats.svg --json stats.json");
  c->callback([=] {
    auto s = DocumentStore::open(*dir);
    if (!s.is_ok()) {
      exit_code() = fail(s.status());
      return;
    }
    StatsConfig cfg;
    cfg.long_thresholds = *thresholds;
    CorpusStats st = compute_stats(*s, cfg);
    if (*format == "json") fmt::print("{}\n", stats_json(st).dump(2));
    else if (*format == "markdown") fmt::print("{}", stats_markdown(st));
    else fmt::print("{}", stats_table(st));
    Status w;
    if (!json_out->empty()) w = write_json_atomic(*json_out, stats_json(st));
    if (w.is_ok() && !md_out->empty()) w = write_file_atomic(*md_out, stats_markdown(st));
    for (const auto& f : *fig_out) {
      if (!w.is_ok()) break;
      w = draw_stats_figure(st, f, "Tokens by document length: " + *dir);
      if (w.is_ok()) fmt::print(stderr, "wrote {}\n", f);
    }
    if (!w.is_ok()) exit_code() = fail(w);
  });
}

}  // namespace longctx::cli
