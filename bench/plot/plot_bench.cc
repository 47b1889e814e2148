// Renders a gallery of paper-style charts (needle heatmap, domain x length shares, mixture
// before/after, loss and memory curves, Figure-2 small multiples) plus an HTML page linking
// them, and times each chart as PNG and SVG. The PNG time is the baseline each SVG time is
// printed next to.
//   plot_bench [out_dir=plot_gallery] [repeats=5]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/hash.h"
#include "plot/charts.h"
#include "plot/html_report.h"

using namespace longctx;
using namespace longctx::plot;

namespace {

const std::vector<std::string> kDomains = {"CommonCrawl", "C4", "GitHub", "Book", "ArXiv", "Wikipedia", "StackExchange"};

HeatmapConfig needle() {
  HeatmapConfig c;
  c.title = "Needle in a haystack: 7B, 80K continual pretraining";
  c.x_label = "Context length (tokens)";
  c.y_label = "Depth (%)";
  c.colorbar_label = "Score";
  c.rows = 10;
  c.cols = 40;
  std::vector<double> lengths;
  for (int i = 0; i < 40; ++i) lengths.push_back(1000 + i * 127000.0 / 39);
  for (double l : lengths) c.x_labels.push_back(fmt::format("{}K", static_cast<int>(std::round(l / 1000))));
  for (int d = 0; d < 10; ++d) c.y_labels.push_back(fmt::format("{}", static_cast<int>(std::round(d * 100.0 / 9))));
  for (int d = 0; d < 10; ++d) {
    for (int i = 0; i < 40; ++i) {
      double u = unit_hash(static_cast<uint64_t>(d * 40 + i), 7);
      double v = lengths[i] <= 81920 ? (u < 0.9 ? 1.0 : 0.6 + 0.4 * u) : std::max(0.0, 1.1 - (lengths[i] - 81920) / 60000 - 0.5 * u);
      c.values.push_back(std::min(1.0, v));
    }
  }
  c.marker_column = heatmap_column_position(lengths, 81920);
  c.marker_label = "80K (train length)";
  return c;
}

// Paper Table 5 as a picture: loss difference from the original mixture, per domain and token
// range (green = better, red = worse, |d| <= 0.01 near grey).
HeatmapConfig loss_difference() {
  HeatmapConfig c;
  c.title = "Loss difference from the original mixture";
  c.x_label = "Domain";
  c.y_label = "Mixture, positions";
  c.colorbar_label = "Loss difference";
  c.x_labels = {"C4", "CC", "Stack", "Arxiv", "Wiki", "Book", "Github"};
  c.y_labels = {"per-source 0-4K", "global 0-4K"};
  c.rows = 2;
  c.cols = 7;
  c.values = {0.002, 0.008, -0.001, -0.008, -0.040, -0.065, -0.008,  //
              0.008, 0.010, 0.015, -0.020, -0.020, -0.140, 0.015};
  c.scale = ColorScale{{{-0.15, rgb_from_hex(0x0CD79F)}, {-0.01, rgb_from_hex(0xE6E6E6)}, {0.01, rgb_from_hex(0xE6E6E6)},
                        {0.15, rgb_from_hex(0xF0496E)}}};
  c.annotate = true;
  c.annotation_decimals = 3;
  c.style = sized_style(760, 300);
  return c;
}

BarChartConfig length_shares() {
  BarChartConfig c;
  c.title = "Token share by document length within each domain";
  c.x_label = "Domain";
  c.y_label = "Share of domain tokens";
  c.categories = kDomains;
  const std::vector<std::string> buckets = {"<4K", "4-16K", "16-64K", "64-128K", ">128K"};
  const double base[7][5] = {{62, 28, 8, 1.5, 0.5}, {80, 17, 2.5, 0.4, 0.1}, {40, 30, 20, 7, 3}, {2, 6, 22, 30, 40},
                             {10, 45, 35, 8, 2},    {70, 25, 4.5, 0.4, 0.1}, {85, 13, 1.8, 0.15, 0.05}};
  for (size_t b = 0; b < buckets.size(); ++b) {
    BarSeries s{buckets[b], {}, std::nullopt};
    for (size_t d = 0; d < kDomains.size(); ++d) s.values.push_back(base[d][b]);
    c.series.push_back(s);
  }
  c.mode = BarMode::kStacked;
  c.normalize_per_category = true;
  c.value_format = TickFormat::kPercent;
  c.show_values = true;
  return c;
}

BarChartConfig mixture() {
  BarChartConfig c;
  c.title = "Domain mixture before and after per-source length upsampling";
  c.x_label = "Domain";
  c.y_label = "Share of training tokens";
  c.categories = kDomains;
  c.series = {{"Original (SlimPajama)", {0.521, 0.266, 0.052, 0.042, 0.046, 0.038, 0.033}, std::nullopt},
              {"Per-source upsampled", {0.517, 0.264, 0.058, 0.041, 0.049, 0.038, 0.033}, std::nullopt}};
  c.value_format = TickFormat::kPercent;
  c.show_values = true;
  c.bar_width_fraction = 0.8;
  return c;
}

LineChartConfig loss_curves() {
  LineChartConfig c;
  c.title = "Validation loss at each context length vs tokens trained";
  c.x_label = "Continual-pretraining tokens";
  c.y_label = "Loss";
  c.x_scale = AxisScale::kLog10;
  c.x_format = TickFormat::kSi;
  const std::vector<double> tokens = {1e8, 3e8, 5e8, 1e9, 2e9, 5e9, 1e10};
  const std::vector<std::pair<std::string, double>> ctx = {{"1K", 2.15}, {"16K", 1.95}, {"32K", 1.9}, {"64K", 1.87}, {"128K", 1.86}};
  for (size_t k = 0; k < ctx.size(); ++k) {
    LineSeries s{ctx[k].first + " context", tokens, {}, std::nullopt, true, false};
    for (double t : tokens) s.y.push_back(ctx[k].second + (0.35 + 0.12 * k) / std::pow(t / 1e8, 0.35 + 0.05 * k));
    c.series.push_back(s);
  }
  return c;
}

LineChartConfig memory() {
  LineChartConfig c;
  c.title = "Peak training memory vs sequence length";
  c.x_label = "Sequence length";
  c.y_label = "Peak memory (GB)";
  c.x_scale = AxisScale::kLog2;
  c.x_format = TickFormat::kBinary;
  c.y_include_zero = true;
  std::vector<double> lens;
  for (double l = 4096; l <= 131072; l *= 2) lens.push_back(l);
  LineSeries full{"full attention", lens, {}, std::nullopt, true, false};
  LineSeries flash{"flash attention", lens, {}, std::nullopt, true, true};
  for (double l : lens) {
    full.y.push_back(14 + 2.0 * l / 4096 + 0.9 * (l / 4096) * (l / 4096));
    flash.y.push_back(14 + 2.2 * l / 4096);
  }
  full.x.resize(4);
  full.y.resize(4);  // out of memory beyond 32K
  c.series = {full, flash};
  return c;
}

HistogramGridConfig figure2() {
  HistogramGridConfig c;
  c.title = "Tokens by document length, per domain (SlimPajama sample)";
  c.x_label = "Document length (tokens)";
  c.y_label = "Share of domain tokens";
  std::vector<uint64_t> edges;
  for (uint64_t e = 1024; e <= 131072; e *= 2) edges.push_back(e);
  c.bucket_labels = length_bucket_labels(edges);
  const double peak[7] = {1.5, 0.8, 2.5, 6.5, 4.0, 1.2, 0.6};
  for (size_t d = 0; d < kDomains.size(); ++d) {
    HistogramPanel p{kDomains[d], {}, std::nullopt};
    for (size_t b = 0; b < c.bucket_labels.size(); ++b) p.values.push_back(std::exp(-0.5 * std::pow((b - peak[d]) / 1.4, 2)));
    c.panels.push_back(p);
  }
  c.columns = 4;
  return c;
}

double time_ms(const std::function<Status()>& f, int repeats) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    Status st = f();
    auto t1 = std::chrono::steady_clock::now();
    if (!st.is_ok()) {
      std::fprintf(stderr, "error: %s\n", st.message().c_str());
      std::exit(1);
    }
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out = argc > 1 ? argv[1] : "plot_gallery";
  int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  if (Status st = make_dirs(out); !st.is_ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  struct Chart {
    std::string name, caption;
    std::function<Status(const std::string&)> render;
  };
  std::vector<Chart> charts = {
      {"needle", "Needle-in-a-haystack accuracy; the dashed line marks the training length.",
       [](const std::string& p) { return render_heatmap(needle(), p); }},
      {"loss_diff", "Loss difference from the original mixture (paper Table 5).",
       [](const std::string& p) { return render_heatmap(loss_difference(), p); }},
      {"length_shares", "Within-domain token share per length bucket.",
       [](const std::string& p) { return render_bar_chart(length_shares(), p); }},
      {"mixture", "Domain mixture before/after upsampling.", [](const std::string& p) { return render_bar_chart(mixture(), p); }},
      {"loss", "Loss vs tokens.", [](const std::string& p) { return render_line_chart(loss_curves(), p); }},
      {"memory", "Memory vs sequence length.", [](const std::string& p) { return render_line_chart(memory(), p); }},
      {"figure2", "Domain x length distribution (paper Figure 2).",
       [](const std::string& p) { return render_histogram_grid(figure2(), p); }},
  };
  std::printf("%-14s %12s %12s\n", "chart", "png ms", "svg ms");
  HtmlReport report{"Plot gallery", "rendered by plot_bench", {}};
  HtmlSection sec{"Charts", {HtmlText{"Every chart of the `plot` library on paper-like data."}}};
  for (const auto& c : charts) {
    double png = time_ms([&] { return c.render(out + "/" + c.name + ".png"); }, repeats);
    double svg = time_ms([&] { return c.render(out + "/" + c.name + ".svg"); }, repeats);
    std::printf("%-14s %12.2f %12.2f\n", c.name.c_str(), png, svg);
    sec.blocks.push_back(HtmlImage{c.name + ".png", c.caption, "", HtmlImage::Mode::kLink});
  }
  report.sections.push_back(sec);
  if (Status st = write_html_report(report, out + "/index.html"); !st.is_ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("wrote %s/index.html\n", out.c_str());
  return 0;
}
