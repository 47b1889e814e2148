// The study's report (study_report.h, docs/reproduce.md "The report"). Every number on the page
// comes from an output's JSON in the study directory: study.json, the stage records
// (stages/<name>.json), stats/stats.json and each mixture's manifest.json report. A section whose
// stages have not run says so in a callout instead of showing anything.
//
// Tables carry ids (docs/reproduce.md lists them) so that a reader of the page, the tests
// included, can find a table and check it against the JSON it came from. Numbers are written
// plainly: integers without separators, shares as percentages with two decimals.
#include "study/study_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/json_util.h"
#include "mix/compare.h"
#include "mix/mixture.h"
#include "plot/charts.h"
#include "plot/html_report.h"
#include "study/stage.h"
#include "study/study.h"
#include "study/study_internal.h"

namespace longctx::study {
namespace {

using nlohmann::json;
using plot::HtmlCallout;
using plot::HtmlImage;
using plot::HtmlSection;
using plot::HtmlTable;
using plot::HtmlText;

constexpr const char* kFigures = "report-figures";

std::string pct(double share) { return fmt::format("{:.2f}%", 100.0 * share); }

// The state of a stage as its record shows it: "done" (record present and every output still has
// the recorded digest), "out of date" (record present, an output changed or is gone), "not in this
// build" (a slot), "not run".
struct RecordedStage {
  const Stage* stage = nullptr;
  std::string state;
  json record;  // null unless done
};

std::vector<RecordedStage> recorded_stages(const std::string& dir, const std::vector<Stage>& stages) {
  std::vector<RecordedStage> out;
  for (const auto& s : stages) {
    RecordedStage r{&s, s.available ? "not run" : "not in this build", json()};
    auto rec = read_stage_record(dir, s.name);
    if (rec.is_ok() && !rec->is_null()) {
      bool intact = true;
      for (const auto& o : s.outputs) {
        auto d = output_digest(dir, o);
        intact &= d.is_ok() && (*rec)["digests"].value(o.path, "") == *d;
      }
      r.state = intact ? "done" : "out of date";
      if (intact) r.record = *rec;
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool done(const std::vector<RecordedStage>& rs, const std::string& name) {
  for (const auto& r : rs)
    if (r.stage->name == name) return r.state == "done";
  return false;
}

HtmlSection settings_section(const StudyConfig& c) {
  HtmlSection s{"Settings", {}, "settings"};
  HtmlTable t{"The study's configuration (study.json)", {"setting", "value"}, {}, "settings"};
  const std::string corpus = c.corpus.source == CorpusSource::kPath ? c.corpus.path
                             : c.corpus.source == CorpusSource::kSample
                                 ? std::string("the built-in sample corpus")
                                 : fmt::format("synthetic, {} bytes (+ {} held out)", c.corpus.synth_bytes,
                                               c.corpus.synth_validation_bytes);
  t.rows = {{"name", c.name},
            {"seed", std::to_string(c.seed)},
            {"short_context", std::to_string(c.short_context)},
            {"long_context", std::to_string(c.long_context)},
            {"corpus", corpus},
            {"tokenizer", c.tokenizer.path.empty() ? fmt::format("trained, {} pieces", c.tokenizer.vocab_size) : c.tokenizer.path},
            {"mixture_tokens", std::to_string(c.mixture_tokens)},
            {"model", fmt::format("{} layers, hidden {}, {} heads ({} KV), RoPE base {}", c.model.layers, c.model.hidden,
                                  c.model.heads, c.model.kv_heads, c.model.rope_theta)},
            {"continued", fmt::format("on {}, RoPE base {}; control: {}", fmt::join(c.continued.mixtures, ", "),
                                      c.continued.rope_theta, c.continued.control.empty() ? "none" : c.continued.control)}};
  if (!c.description.empty()) s.blocks.push_back(HtmlText{c.description});
  s.blocks.push_back(std::move(t));
  s.blocks.push_back(HtmlText{"Every field is in the last section, [The whole configuration](#config)."});
  return s;
}

HtmlSection stages_section(const std::vector<RecordedStage>& rs, const std::string& dir) {
  HtmlSection s{"Stages", {}, "stages"};
  HtmlTable t{"Each stage, its state in this directory and its time", {"stage", "group", "state", "seconds", "what"}, {}, "stages"};
  std::string commands;
  for (const auto& r : rs) {
    const std::string secs = r.record.is_null() ? "-" : fmt::format("{:.2f}", r.record.value("seconds", 0.0));
    t.rows.push_back({r.stage->name, r.stage->group, r.state, secs, r.stage->title});
    t.cell_classes.push_back({"", "", r.state == "done" ? "agree" : "na", "", ""});
    for (const auto& cmd : r.stage->commands) commands += fmt::format("# {}\n{}\n", r.stage->name, cmd);
  }
  s.blocks.push_back(std::move(t));
  s.blocks.push_back(HtmlText{fmt::format(
      "Rerun the whole study, or one stage and everything after it:\n\n```\nlongctx reproduce --out {0}\n"
      "longctx reproduce --out {0} --from STAGE\nlongctx report {0}\n```\n\nThe same work by hand, stage by stage:\n\n```\n{1}```",
      shell_quote(dir), commands)});
  return s;
}

Result<HtmlSection> corpus_section(const std::string& dir, const std::vector<RecordedStage>& rs) {
  HtmlSection s{"Corpus statistics", {}, "corpus"};
  if (!done(rs, "stats")) {
    s.blocks.push_back(HtmlCallout{"The `stats` stage has not run yet: there are no corpus statistics."});
    return s;
  }
  const std::string base = std::string(layout::kStats) + "/stats";
  LONGCTX_ASSIGN_OR_RETURN(json st, read_json_file(dir + "/" + base + ".json"));
  std::vector<std::string> header = {"domain", "documents", "tokens", "token share", "median", "p90", "max"};
  for (const auto& th : st["thresholds"]) header.push_back(fmt::format("share > {}", th.get<uint64_t>()));
  HtmlTable t{"Documents and tokens per domain of the training store; \"share > N\": the domain's tokens in documents longer "
              "than N tokens (the paper's long-document share, Figure 2)",
              header, {}, "corpus-stats"};
  auto row = [&](const json& d) {
    std::vector<std::string> r = {d["domain"].get<std::string>(), std::to_string(d["documents"].get<uint64_t>()),
                                  std::to_string(d["tokens"].get<uint64_t>()), pct(d["token_share"].get<double>()),
                                  std::to_string(d["median"].get<uint64_t>()), std::to_string(d["p90"].get<uint64_t>()),
                                  std::to_string(d["max"].get<uint64_t>())};
    for (const auto& th : st["thresholds"]) r.push_back(pct(d["long_token_share"][std::to_string(th.get<uint64_t>())].get<double>()));
    t.rows.push_back(std::move(r));
  };
  try {
    for (const auto& d : st["domains"]) row(d);
    row(st["total"]);
  } catch (const json::exception& e) {
    return make_error(ErrorCode::kCorrupt, "'{}/{}.json': not a stats report ({})", dir, base, e.what());
  }
  s.blocks.push_back(std::move(t));
  s.blocks.push_back(HtmlImage{base + ".png", "Tokens by document length, per domain (stats/stats.png)",
                               "bars of token share per document-length bucket for each domain", HtmlImage::Mode::kEmbed});
  return s;
}

// One mixture's before/after table: per domain, the store's and the mixture's token share and
// long share, and how often the mixture repeats the domain's documents.
HtmlTable mixture_table(const std::string& name, const MixReport& r) {
  HtmlTable t{fmt::format("Mixture {}: per domain, before (the store) and after (the packed mixture); long = more than {} "
                          "tokens",
                          name, r.long_threshold),
              {"domain", "share before", "share after", "long before", "long after", "epochs", "max repeat"},
              {},
              "mix-" + name};
  for (size_t i = 0; i < r.after.size() && i < r.before.size(); ++i) {
    const MixSide &b = r.before[i], &a = r.after[i];
    t.rows.push_back({a.name, pct(b.token_share), pct(a.token_share), pct(b.long_share), pct(a.long_share),
                      fmt::format("{:.2f}", a.epochs), std::to_string(a.max_repeat)});
  }
  return t;
}

// The finished mixtures' reports, in the configuration's order.
struct MixtureReports {
  std::vector<std::string> names;
  std::vector<const MixtureSpec*> specs;
  std::vector<MixReport> reports;
  const MixReport* find(const std::string& name) const {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return &reports[i];
    return nullptr;
  }
  // The first finished long-context mixture with this strategy.
  const MixReport* by_strategy(const std::string& strategy) const {
    for (size_t i = 0; i < names.size(); ++i)
      if (specs[i]->strategy == strategy && specs[i]->context == Context::kLong) return &reports[i];
    return nullptr;
  }
};

Result<MixtureReports> read_mixtures(const StudyConfig& c, const std::string& dir, const std::vector<RecordedStage>& rs) {
  MixtureReports m;
  for (const auto& spec : c.mixtures) {
    if (!done(rs, "mix-" + spec.name)) continue;
    LONGCTX_ASSIGN_OR_RETURN(MixReport r, read_mix_report(dir + "/" + layout::mixture(spec.name)));
    m.names.push_back(spec.name);
    m.specs.push_back(&spec);
    m.reports.push_back(std::move(r));
  }
  return m;
}

// The two figures draw_mix_figure writes for `path`: long share and domain share.
plot::HtmlFigureRow mix_figures(const std::string& rel, const std::string& caption) {
  const std::string domains = rel.substr(0, rel.size() - 4) + "-domains.svg";
  return plot::HtmlFigureRow{{HtmlImage{rel, "Long-document share per domain", "grouped bars of long share", HtmlImage::Mode::kInlineSvg},
                              HtmlImage{domains, "Token share per domain", "grouped bars of domain share", HtmlImage::Mode::kInlineSvg}},
                             caption};
}

// The long mixtures side by side: per domain, each mixture's token share and long share.
HtmlTable compare_mixtures_table(const MixtureReports& m) {
  HtmlTable t{"The long-context mixtures side by side (the store first): token share / long share per domain",
              {"domain", "store share", "store long"}, {}, "mix-compare"};
  std::vector<size_t> cols;
  for (size_t i = 0; i < m.names.size(); ++i) {
    if (m.specs[i]->context != Context::kLong) continue;
    cols.push_back(i);
    t.header.push_back(m.names[i] + " share");
    t.header.push_back(m.names[i] + " long");
  }
  if (cols.empty()) return t;
  const MixReport& first = m.reports[cols[0]];
  for (size_t d = 0; d < first.before.size(); ++d) {
    std::vector<std::string> row = {first.before[d].name, pct(first.before[d].token_share), pct(first.before[d].long_share)};
    for (size_t i : cols) {
      const auto& after = m.reports[i].after;
      const bool has = d < after.size() && after[d].name == first.before[d].name;
      row.push_back(has ? pct(after[d].token_share) : "-");
      row.push_back(has ? pct(after[d].long_share) : "-");
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

Result<HtmlSection> mixtures_section(const StudyConfig& c, const std::string& dir, const MixtureReports& m) {
  HtmlSection s{"Mixtures", {}, "mixtures"};
  if (m.names.empty()) {
    s.blocks.push_back(HtmlCallout{"No `mix-*` stage has run yet: there are no mixtures to show."});
    return s;
  }
  LONGCTX_RETURN_IF_ERROR(make_dirs(dir + "/" + kFigures));
  std::vector<MixReport> long_reports;
  std::vector<std::string> long_names;
  for (size_t i = 0; i < m.names.size(); ++i) {
    const std::string rel = fmt::format("{}/mix-{}.svg", kFigures, m.names[i]);
    LONGCTX_RETURN_IF_ERROR(draw_mix_figure({m.reports[i]}, {m.names[i]}, true, dir + "/" + rel));
    s.blocks.push_back(HtmlText{fmt::format("### {}\n\n`{}` at the {} context ({} tokens per sequence).", m.names[i],
                                            m.specs[i]->strategy, context_name(m.specs[i]->context),
                                            c.seq_len(*m.specs[i]))});
    s.blocks.push_back(mixture_table(m.names[i], m.reports[i]));
    s.blocks.push_back(mix_figures(rel, "Mixture " + m.names[i] + ": the store (before) and the mixture (after)"));
    if (m.specs[i]->context == Context::kLong) long_reports.push_back(m.reports[i]), long_names.push_back(m.names[i]);
  }
  if (!long_reports.empty()) {
    s.blocks.push_back(HtmlText{"### The long mixtures compared\n\nThe paper's Figure 2 view (`longctx mix compare`)."});
    s.blocks.push_back(compare_mixtures_table(m));
    const std::string rel = fmt::format("{}/mix-compare.svg", kFigures);
    LONGCTX_RETURN_IF_ERROR(draw_mix_figure(long_reports, long_names, true, dir + "/" + rel));
    s.blocks.push_back(mix_figures(rel, "Every long mixture beside the store"));
  }
  return s;
}

// A JSON-lines file's objects (blank lines skipped); errors name the file and line.
Result<std::vector<json>> read_jsonl(const std::string& path) {
  LONGCTX_ASSIGN_OR_RETURN(std::string text, read_file(path));
  std::vector<json> out;
  size_t line = 0;
  for (size_t p = 0; p < text.size();) {
    size_t q = text.find('\n', p);
    if (q == std::string::npos) q = text.size();
    ++line;
    if (q > p) {
      json j = json::parse(text.begin() + static_cast<std::ptrdiff_t>(p), text.begin() + static_cast<std::ptrdiff_t>(q), nullptr, false);
      if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "'{}' line {}: expected a JSON object", path, line);
      out.push_back(std::move(j));
    }
    p = q + 1;
  }
  return out;
}

double num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

// The callout naming the stages of a section that have not run (empty when all have).
void note_missing(HtmlSection* s, const std::vector<std::string>& missing, const std::string& reason) {
  if (missing.empty()) return;
  std::string names;
  for (const auto& m : missing) names += (names.empty() ? "" : ", ") + fmt::format("`{}`", m);
  s->blocks.insert(s->blocks.begin(), HtmlCallout{fmt::format("**Not run.** The stages {} have not run{}.", names, reason)});
}

std::string unavailable_reason(const std::vector<RecordedStage>& rs, const std::vector<std::string>& names) {
  for (const auto& r : rs)
    for (const auto& n : names)
      if (r.stage->name == n && !r.stage->available) return " (" + r.stage->unavailable_reason + ")";
  return "";
}

// Training curves from each finished run's metrics.jsonl (docs/formats.md "Training run"): loss
// against tokens trained, one line per model, and the last step of each in a table.
Result<HtmlSection> training_section(const StudyConfig& c, const std::string& dir, const std::vector<RecordedStage>& rs) {
  HtmlSection s{"Training", {}, "training"};
  std::vector<std::string> missing;
  plot::LineChartConfig chart;
  chart.title = "Training loss against tokens";
  chart.x_label = "tokens trained (this run)";
  chart.y_label = "loss (nats)";
  chart.x_format = plot::TickFormat::kSi;
  HtmlTable t{"Each training run's last step (runs/<model>/metrics.jsonl)", {"model", "steps", "tokens", "loss"}, {}, "training"};
  for (const auto& m : study_models(c)) {
    if (!done(rs, m.stage)) {
      missing.push_back(m.stage);
      continue;
    }
    const std::string path = dir + "/" + layout::run(m.name) + "/" + layout::kRunMetrics;
    LONGCTX_ASSIGN_OR_RETURN(std::vector<json> lines, read_jsonl(path));
    plot::LineSeries line{m.label, {}, {}, std::nullopt, false, false};
    json last;
    for (const auto& l : lines) {
      if (std::isnan(num(l, "loss")) || std::isnan(num(l, "tokens"))) continue;  // a validation line
      line.x.push_back(num(l, "tokens"));
      line.y.push_back(num(l, "loss"));
      last = l;
    }
    if (last.is_null()) return make_error(ErrorCode::kCorrupt, "'{}': no training step (a line with tokens and loss)", path);
    t.rows.push_back({m.name, fmt::format("{}", last.value("step", 0)), fmt::format("{:.0f}", num(last, "tokens")),
                      fmt::format("{:.4f}", num(last, "loss"))});
    chart.series.push_back(std::move(line));
  }
  if (!chart.series.empty()) {
    const std::string rel = fmt::format("{}/training.svg", kFigures);
    LONGCTX_RETURN_IF_ERROR(make_dirs(dir + "/" + kFigures));
    LONGCTX_RETURN_IF_ERROR(plot::render_line_chart(chart, dir + "/" + rel));
    s.blocks.push_back(std::move(t));
    s.blocks.push_back(HtmlImage{rel, "Loss against tokens, per run", "training loss curves", HtmlImage::Mode::kInlineSvg});
  }
  note_missing(&s, missing, unavailable_reason(rs, missing));
  return s;
}

// One sweep's heatmap (depth rows x length columns, the score of each cell; NaN where skipped)
// from its results.jsonl (docs/formats.md "Needle sweep folder"), and its mean score.
Result<double> draw_sweep(const std::string& results, const std::string& title, uint64_t train_length, const std::string& out) {
  LONGCTX_ASSIGN_OR_RETURN(std::vector<json> cells, read_jsonl(results));
  std::vector<double> lengths, depths;
  for (const auto& cell : cells) {
    lengths.push_back(num(cell, "length"));
    depths.push_back(num(cell, "depth"));
  }
  for (auto* v : {&lengths, &depths}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  plot::HeatmapConfig h;
  h.title = title;
  h.x_label = "context length (tokens)";
  h.y_label = "depth (%)";
  h.colorbar_label = "score";
  h.rows = depths.size(), h.cols = lengths.size();
  h.values.assign(h.rows * h.cols, std::nan(""));
  double sum = 0;
  size_t n = 0;
  for (const auto& cell : cells) {
    const size_t r = std::lower_bound(depths.begin(), depths.end(), num(cell, "depth")) - depths.begin();
    const size_t col = std::lower_bound(lengths.begin(), lengths.end(), num(cell, "length")) - lengths.begin();
    const double score = num(cell, "score");
    h.values[r * h.cols + col] = score;
    if (!std::isnan(score)) sum += score, ++n;
  }
  if (n == 0) return make_error(ErrorCode::kCorrupt, "'{}': no measured cell", results);
  for (double l : lengths) h.x_labels.push_back(fmt::format("{:.0f}", l));
  for (double d : depths) h.y_labels.push_back(fmt::format("{:.0f}", d));
  h.marker_column = plot::heatmap_column_position(lengths, static_cast<double>(train_length));
  h.marker_label = fmt::format("{} (trained)", train_length);
  LONGCTX_RETURN_IF_ERROR(plot::render_heatmap(h, out));
  return sum / static_cast<double>(n);
}

// The mean retrieval scores, by model name and task, for the paper-vs-here table.
using Scores = std::map<std::string, double>;

Result<HtmlSection> retrieval_section(const StudyConfig& c, const std::string& dir, const std::vector<RecordedStage>& rs,
                                      Scores* scores) {
  HtmlSection s{"Needle and passkey retrieval", {}, "retrieval"};
  std::vector<std::string> missing;
  HtmlTable t{"Mean score of each sweep (cells skipped for length are left out)", {"model", "task", "mean score"}, {}, "retrieval"};
  for (const char* task : {"needle", "passkey"}) {
    plot::HtmlFigureRow row{{}, fmt::format("{}: depth against context length, each model side by side", task)};
    for (const auto& m : study_models(c)) {
      const std::string stage = std::string(task) + "-" + m.name;
      if (!std::any_of(rs.begin(), rs.end(), [&](const RecordedStage& r) { return r.stage->name == stage; })) continue;
      if (!done(rs, stage)) {
        missing.push_back(stage);
        continue;
      }
      const std::string rel = fmt::format("{}/{}-{}.svg", kFigures, task, m.name);
      LONGCTX_RETURN_IF_ERROR(make_dirs(dir + "/" + kFigures));
      LONGCTX_ASSIGN_OR_RETURN(double mean, draw_sweep(dir + "/" + layout::eval(m.name) + "/" + task + "/results.jsonl",
                                                       fmt::format("{}: {}", task, m.label), m.context, dir + "/" + rel));
      (*scores)[m.name + "/" + task] = mean;
      t.rows.push_back({m.name, task, fmt::format("{:.3f}", mean)});
      row.figures.push_back(HtmlImage{rel, m.label, fmt::format("{} heatmap of {}", task, m.name), HtmlImage::Mode::kInlineSvg});
    }
    if (!row.figures.empty()) s.blocks.push_back(std::move(row));
  }
  if (!t.rows.empty()) s.blocks.insert(s.blocks.begin(), std::move(t));
  note_missing(&s, missing, unavailable_reason(rs, missing));
  return s;
}

// Per-domain loss before/after the split, by model, from eval/<model>/loss/loss.json
// (docs/formats.md "Loss results").
struct DomainLoss {
  double before = std::nan(""), after = std::nan("");
};
using LossByModel = std::map<std::string, std::map<std::string, DomainLoss>>;

// A model's mean held-out loss over all domains at the positions just inside the short context,
// [short/2, short), and past it, [short, end): the length-generalisation check (a model trained
// at `short` whose loss rises past it does not use the longer context). Means weight each
// position bucket by its count.
struct PositionLoss {
  double inside = std::nan(""), beyond = std::nan("");
};
using PositionByModel = std::map<std::string, PositionLoss>;

PositionLoss position_loss(const json& buckets, uint64_t short_context) {
  double in_sum = 0, out_sum = 0, in_n = 0, out_n = 0;
  const double s = static_cast<double>(short_context);
  for (const auto& b : buckets) {
    const double lo = num(b, "lo"), hi = num(b, "hi"), sum = num(b, "sum"), n = num(b, "count");
    if (std::isnan(sum) || std::isnan(n) || n <= 0) continue;
    if (lo >= s) {
      out_sum += sum;
      out_n += n;
    } else if (lo >= s / 2 && hi <= s) {
      in_sum += sum;
      in_n += n;
    }
  }
  return {in_n > 0 ? in_sum / in_n : std::nan(""), out_n > 0 ? out_sum / out_n : std::nan("")};
}

std::string loss_or_dash(double v) { return std::isnan(v) ? "-" : fmt::format("{:.3f}", v); }

Result<HtmlSection> loss_section(const StudyConfig& c, const std::string& dir, const std::vector<RecordedStage>& rs, LossByModel* losses,
                                 PositionByModel* positions) {
  HtmlSection s{"Loss against position, and per domain", {}, "loss"};
  std::vector<std::string> missing;
  plot::LineChartConfig chart;
  chart.title = "Held-out loss against position";
  chart.x_label = "position in the sequence (tokens)";
  chart.y_label = "loss (nats)";
  chart.x_scale = plot::AxisScale::kLog2;
  for (const auto& m : study_models(c)) {
    const std::string stage = "loss-" + m.name;
    if (!std::any_of(rs.begin(), rs.end(), [&](const RecordedStage& r) { return r.stage->name == stage; })) continue;
    if (!done(rs, stage)) {
      missing.push_back(stage);
      continue;
    }
    const std::string path = dir + "/" + layout::eval(m.name) + "/loss/loss.json";
    LONGCTX_ASSIGN_OR_RETURN(json j, read_json_file(path));
    if (!j.contains("domains") || !j["domains"].is_array()) return make_error(ErrorCode::kCorrupt, "'{}': no domains", path);
    for (const auto& d : j["domains"]) (*losses)[m.name][d.value("domain", "?")] = {num(d, "mean_before"), num(d, "mean_after")};
    (*positions)[m.name] = position_loss(j.value("buckets", json::array()), c.short_context);
    plot::LineSeries line{m.label, {}, {}, std::nullopt, false, false};
    for (const auto& b : j.value("buckets", json::array())) {
      if (std::isnan(num(b, "mean"))) continue;
      line.x.push_back(std::max(1.0, (num(b, "lo") + num(b, "hi")) / 2));
      line.y.push_back(num(b, "mean"));
    }
    if (!line.x.empty()) chart.series.push_back(std::move(line));
  }
  if (!chart.series.empty()) {
    const std::string rel = fmt::format("{}/loss-position.svg", kFigures);
    LONGCTX_RETURN_IF_ERROR(make_dirs(dir + "/" + kFigures));
    LONGCTX_RETURN_IF_ERROR(plot::render_line_chart(chart, dir + "/" + rel));
    s.blocks.push_back(HtmlImage{rel, "Loss against position, per model", "loss by position", HtmlImage::Mode::kInlineSvg});
  }
  if (!positions->empty()) {
    HtmlTable t{fmt::format("Mean held-out loss just inside the base model's training length ({} to {} tokens) and past "
                            "it ({} tokens on): a model that uses the longer context keeps its loss flat or falling",
                            c.short_context / 2, c.short_context, c.short_context),
                {"model", "inside", "past it", "change"}, {}, "loss-position"};
    for (const auto& m : study_models(c)) {
      auto it = positions->find(m.name);
      if (it == positions->end()) continue;
      const double d = it->second.beyond - it->second.inside;
      t.rows.push_back({m.name, loss_or_dash(it->second.inside), loss_or_dash(it->second.beyond),
                        std::isnan(d) ? "-" : fmt::format("{:+.3f}", d)});
      t.cell_classes.push_back({"", "", "", std::isnan(d) ? "na" : d > 0.01 ? "worse" : d < -0.01 ? "better" : "same"});
    }
    s.blocks.push_back(std::move(t));
  }
  const std::string base = "continue-" + c.eval.loss.baseline;
  if (losses->count(base)) {
    HtmlTable t{fmt::format("Per-domain loss minus that of the model continued on {} (the paper's Table 5): positions before "
                            "and after {}; |difference| > 0.01 is marked better or worse",
                            c.eval.loss.baseline, c.loss_split()),
                {"model", "domain", "before", "after"}, {}, "loss-difference"};
    for (const auto& [model, domains] : *losses) {
      if (model == base || model == "base") continue;
      for (const auto& [domain, l] : domains) {
        const DomainLoss& b = (*losses)[base][domain];
        std::vector<std::string> row = {model, domain}, cls = {"", ""};
        for (double d : {l.before - b.before, l.after - b.after}) {
          row.push_back(std::isnan(d) ? "-" : fmt::format("{:+.3f}", d));
          cls.push_back(std::isnan(d) ? "na" : d > 0.01 ? "worse" : d < -0.01 ? "better" : "same");
        }
        t.rows.push_back(std::move(row));
        t.cell_classes.push_back(std::move(cls));
      }
    }
    s.blocks.push_back(std::move(t));
  }
  note_missing(&s, missing, unavailable_reason(rs, missing));
  return s;
}

// Tokens in documents longer than the threshold, over all tokens of a mixture.
double long_share(const std::vector<MixSide>& side) {
  double s = 0;
  for (const auto& d : side) s += d.token_share * d.long_share;
  return s;
}
double domain_share(const std::vector<MixSide>& side, std::string_view contains) {
  double s = 0;
  for (const auto& d : side) s += d.name.find(contains) != std::string::npos ? d.token_share : 0;
  return s;
}

// Length generalisation from the loss by position (paper.md "Claim"): the base model's loss
// rises past its training length, the per-source model's stays flat, and the control (RoPE base
// kept) does worse past the base length than the model with the raised base.
template <typename Add>
void length_rows(const StudyConfig& c, const std::string& per, const PositionByModel& positions, Add&& add) {
  using Here = std::optional<std::pair<std::string, bool>>;
  auto get = [&](const std::string& m) -> const PositionLoss* {
    auto it = positions.find(m);
    return it == positions.end() || std::isnan(it->second.inside) || std::isnan(it->second.beyond) ? nullptr : &it->second;
  };
  const PositionLoss *b = get("base"), *p = get(per), *ctl = get("control");
  add(fmt::format("the base model's loss rises past its training length ({} tokens)", c.short_context),
      "a 4K model does not work past 4K without continued pretraining",
      b ? Here{{fmt::format("{} -> {}", loss_or_dash(b->inside), loss_or_dash(b->beyond)), b->beyond > b->inside}} : Here());
  add("after continued pretraining (per-source) the loss stays flat or falls past the base length",
      "the continued model uses the whole context",
      p ? Here{{fmt::format("{} -> {}", loss_or_dash(p->inside), loss_or_dash(p->beyond)), p->beyond <= p->inside + 0.01}} : Here());
  add("the control (RoPE base kept) has a higher loss past the base length than the raised base",
      "base 500,000 as in Xiong et al.",
      ctl && p ? Here{{fmt::format("kept {}, raised {}", loss_or_dash(ctl->beyond), loss_or_dash(p->beyond)), ctl->beyond > p->beyond}}
               : Here());
}

// The paper's findings about the models (paper.md "Headline numbers", "Other evaluations"): rows
// say "not run" until the needle and loss stages have. The per-source model is the one continued
// on the first per-source-upsample mixture.
template <typename Add>
void model_rows(const StudyConfig& c, const Scores& scores, const LossByModel& losses, const PositionByModel& positions,
                Add&& add) {
  std::string per = "continue-per-source";
  for (const auto& mix : c.continued.mixtures) {
    const MixtureSpec* spec = c.find_mixture(mix);
    if (spec && spec->strategy == "per-source-upsample") {
      per = "continue-" + mix;
      break;
    }
  }
  auto score = [&](const std::string& model) -> std::optional<double> {
    auto it = scores.find(model + "/needle");
    return it == scores.end() ? std::nullopt : std::optional<double>(it->second);
  };
  using Here = std::optional<std::pair<std::string, bool>>;
  Here h;
  if (score("base") && score(per)) h = {{fmt::format("base {:.3f} -> per-source {:.3f}", *score("base"), *score(per)), *score(per) > *score("base")}};
  add("continued pretraining on per-source upsampling makes the needle retrievable past the base context",
      "88.0 after 5B tokens at 80K (LLaMA-2 7B)", h);
  h.reset();
  if (score("control") && score(per)) h = {{fmt::format("base kept {:.3f}, raised {:.3f}", *score("control"), *score(per)), *score(per) > *score("control")}};
  add("raising the RoPE base matters (the control keeps it)", "base 500,000 as in Xiong et al.", h);
  length_rows(c, per, positions, add);
  h.reset();
  const std::string base = "continue-" + c.eval.loss.baseline;
  if (losses.count(per) && losses.count(base) && per != base) {
    double worst = -1e9, book = std::nan("");
    for (const auto& [domain, l] : losses.at(per)) {
      if (!losses.at(base).count(domain)) continue;
      const DomainLoss& b = losses.at(base).at(domain);
      worst = std::max({worst, l.before - b.before, l.after - b.after});
      if (domain.find("Book") != std::string::npos) book = l.before - b.before;
    }
    if (!std::isnan(book)) {
      add("per-source: loss difference from the original mix, Book, positions before the split", "-0.065 (Table 5, 0-4K)",
          Here{{fmt::format("{:+.3f}", book), book < 0}});
    } else {
      add("per-source: loss difference from the original mix, Book, positions before the split", "-0.065 (Table 5, 0-4K)", std::nullopt);
    }
    add("per-source: no significant loss increase (> 0.01) in any domain", "none (Table 5)",
        Here{{fmt::format("largest increase {:+.3f}", worst), worst <= 0.01}});
  } else {
    add("per-source: loss difference from the original mix, Book, positions before the split", "-0.065 (Table 5, 0-4K)", std::nullopt);
    add("per-source: no significant loss increase (> 0.01) in any domain", "none (Table 5)", std::nullopt);
  }
}

// The paper's claims (paper.md) beside what this study measured. A row whose outputs do not
// exist says "not run"; agreement is about the direction of the effect, not its size.
HtmlTable paper_table(const StudyConfig& c, const MixtureReports& m, const Scores& scores, const LossByModel& losses,
                      const PositionByModel& positions) {
  HtmlTable t{"The paper's findings and this study's: the direction is what a miniature can check",
              {"finding", "paper", "here", "direction agrees"}, {}, "paper-vs-here"};
  auto add = [&](std::string finding, std::string paper, std::optional<std::pair<std::string, bool>> here) {
    t.rows.push_back({std::move(finding), std::move(paper), here ? here->first : "not run", here ? (here->second ? "yes" : "no") : "-"});
    t.cell_classes.push_back({"", "", "", here ? (here->second ? "agree" : "disagree") : "na"});
  };
  const MixReport *orig = m.by_strategy("original"), *per = m.by_strategy("per-source-upsample"),
                  *glob = m.by_strategy("global-upsample"), *cut = m.by_strategy("cut");
  using Here = std::optional<std::pair<std::string, bool>>;
  Here h;
  if (orig && per) h = {{fmt::format("{} -> {}", pct(long_share(orig->after)), pct(long_share(per->after))), long_share(per->after) > long_share(orig->after)}};
  add("per-source upsampling raises the share of tokens in long documents", "about 30% -> about 70%", h);
  h.reset();
  if (orig && per) {
    double worst = 0;
    for (size_t i = 0; i < per->after.size() && i < orig->after.size(); ++i) worst = std::max(worst, std::abs(per->after[i].token_share - orig->after[i].token_share));
    h = {{fmt::format("largest domain-share change {:.2f} points", 100 * worst), worst < 0.02}};
  }
  add("per-source upsampling keeps the domain mix of the original", "domain shares unchanged", h);
  h.reset();
  if (orig && glob) {
    const double a = domain_share(orig->after, "Book") + domain_share(orig->after, "ArXiv"), b = domain_share(glob->after, "Book") + domain_share(glob->after, "ArXiv");
    h = {{fmt::format("Book + ArXiv {} -> {}", pct(a), pct(b)), b > a}};
  }
  add("global upsampling shifts the domain mix toward Book and ArXiv", "Book + ArXiv share rises", h);
  h.reset();
  if (cut) h = {{fmt::format("long share {}", pct(long_share(cut->after))), long_share(cut->after) < 0.005}};
  add("cutting at the short context leaves no long documents", "no document longer than 4K", h);
  model_rows(c, scores, losses, positions, add);
  return t;
}

}  // namespace

Status write_study_report(const std::string& dir) {
  LONGCTX_ASSIGN_OR_RETURN(StudyConfig c, read_study_dir(dir));
  const std::vector<Stage> stages = study_stages(c, dir);
  const std::vector<RecordedStage> rs = recorded_stages(dir, stages);
  LONGCTX_ASSIGN_OR_RETURN(MixtureReports mixtures, read_mixtures(c, dir, rs));
  size_t n_done = 0;
  for (const auto& r : rs) n_done += r.state == "done";
  plot::HtmlReport rep;
  rep.title = fmt::format("Long-context data engineering, in miniature: study {}", c.name);
  rep.subtitle = fmt::format("{} of {} stages done; contexts {} -> {} tokens. Rebuilt from the outputs by `longctx report`.", n_done,
                             rs.size(), c.short_context, c.long_context);
  rep.contents = true;
  rep.self_contained = true;
  rep.sections.push_back(settings_section(c));
  rep.sections.push_back(stages_section(rs, dir));
  LONGCTX_ASSIGN_OR_RETURN(HtmlSection corpus, corpus_section(dir, rs));
  rep.sections.push_back(std::move(corpus));
  LONGCTX_ASSIGN_OR_RETURN(HtmlSection mix, mixtures_section(c, dir, mixtures));
  rep.sections.push_back(std::move(mix));
  Scores scores;
  LossByModel losses;
  PositionByModel positions;
  LONGCTX_ASSIGN_OR_RETURN(HtmlSection training, training_section(c, dir, rs));
  LONGCTX_ASSIGN_OR_RETURN(HtmlSection retrieval, retrieval_section(c, dir, rs, &scores));
  LONGCTX_ASSIGN_OR_RETURN(HtmlSection loss, loss_section(c, dir, rs, &losses, &positions));
  for (auto* sec : {&training, &retrieval, &loss}) rep.sections.push_back(std::move(*sec));
  HtmlSection paper{"Paper vs here", {}, "paper"};
  paper.blocks.push_back(paper_table(c, mixtures, scores, losses, positions));
  paper.blocks.push_back(HtmlText{"The paper's numbers come from LLaMA-2 7B on 80K-token sequences; a miniature study can only "
                                  "check whether an effect points the same way. Rows marked \"not run\" wait for the training and "
                                  "evaluation stages."});
  rep.sections.push_back(std::move(paper));
  rep.sections.push_back({"The whole configuration", {HtmlText{"study.json, a template for `longctx reproduce --config` "
                                                               "(docs/reproduce.md describes each field):\n\n```\n" +
                                                               study_config_json(c).dump(2) + "\n```"}},
                          "config"});
  return plot::write_html_report(rep, dir + "/" + layout::kReport).with_context("the study report");
}

}  // namespace longctx::study
