#include "train/metrics.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <sstream>
#include <vector>

#include "core/file_io.h"
#include "plot/charts.h"

namespace longctx::train {

double train_flops_per_token(const model::LlamaConfig& c, int64_t T) {
  const double Q = c.q_dim(), KV = c.kv_dim(), C = c.hidden_size, I = c.intermediate_size;
  const double L = c.num_hidden_layers;
  const double matmul_params = L * (C * (Q + 2 * KV) + Q * C + 3 * C * I) + (double)c.vocab_size * C;
  return 6 * matmul_params + 6 * L * Q * (double)T;
}

double measure_sgemm_flops() {
  // The kernels call single-threaded OpenBLAS from inside their OpenMP loops (kernels/cpu/threads.h),
  // so the ceiling is every OpenMP thread running its own product at once.
  constexpr int n = 512;
  const int threads = std::max(1, omp_get_max_threads());
  std::vector<float> a((size_t)n * n, 0.5f), b((size_t)n * n, 0.25f), c((size_t)n * n * (size_t)threads, 0.0f);
  double best = 1e30;
  for (int rep = 0; rep < 4; rep++) {  // the first round pays for thread start-up and page faults
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for schedule(static, 1)
    for (int t = 0; t < threads; t++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f,
                  c.data() + (size_t)t * n * n, n);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rep > 0) best = std::min(best, dt);
  }
  return 2.0 * n * n * n * threads / best;
}

namespace {

struct Curves {
  std::vector<double> step, loss, val_step, val_loss;
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> val_domain;
};

Result<Curves> read_metrics(const std::string& run) {
  LONGCTX_ASSIGN_OR_RETURN(std::string text, read_file(run + "/metrics.jsonl"));
  Curves c;
  std::istringstream in(text);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    n++;
    if (line.empty()) continue;
    try {
      const auto j = nlohmann::json::parse(line);
      const double step = j.at("step").get<double>();
      if (j.contains("loss")) {
        c.step.push_back(step);
        c.loss.push_back(j.at("loss").get<double>());
      }
      if (j.contains("val_loss")) {
        c.val_step.push_back(step);
        c.val_loss.push_back(j.at("val_loss").get<double>());
        for (auto it = j.at("val_domain_loss").begin(); it != j.at("val_domain_loss").end(); ++it) {
          auto& [xs, ys] = c.val_domain[it.key()];
          xs.push_back(step);
          ys.push_back(it.value().get<double>());
        }
      }
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kCorrupt, "'{}/metrics.jsonl' line {}: {}", run, n, e.what());
    }
  }
  if (c.step.empty()) return make_error(ErrorCode::kNotFound, "'{}/metrics.jsonl' has no step yet", run);
  return c;
}

}  // namespace

Result<std::vector<std::string>> plot_run(const std::string& run) {
  LONGCTX_ASSIGN_OR_RETURN(Curves c, read_metrics(run));
  std::vector<std::string> written;
  plot::LineChartConfig loss;
  loss.title = "Training loss";
  loss.x_label = "step";
  loss.y_label = "loss (nats per token)";
  loss.series.push_back({"train", c.step, c.loss, std::nullopt, c.step.size() <= 60, false});
  if (!c.val_step.empty()) loss.series.push_back({"validation", c.val_step, c.val_loss, std::nullopt, true, true});
  for (const char* ext : {".png", ".svg"}) {
    LONGCTX_RETURN_IF_ERROR(plot::render_line_chart(loss, run + "/loss" + ext));
    written.push_back(run + "/loss" + ext);
  }
  if (c.val_domain.empty()) return written;
  plot::LineChartConfig val;
  val.title = "Validation loss per domain";
  val.x_label = "step";
  val.y_label = "loss (nats per token)";
  for (const auto& [name, xy] : c.val_domain) val.series.push_back({name, xy.first, xy.second, std::nullopt, true, false});
  for (const char* ext : {".png", ".svg"}) {
    LONGCTX_RETURN_IF_ERROR(plot::render_line_chart(val, run + "/val-loss" + ext));
    written.push_back(run + "/val-loss" + ext);
  }
  return written;
}

}  // namespace longctx::train
