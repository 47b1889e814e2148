#include "eval/needle.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/units.h"
#include "core/validate.h"
#include "corpus/sample_corpus.h"
#include "eval/scores.h"

namespace longctx::eval {

Result<RetrievalTask> parse_task(const std::string& name) {
  if (name == "needle") return RetrievalTask::kNeedle;
  if (name == "passkey") return RetrievalTask::kPasskey;
  if (name == "multikey") return RetrievalTask::kMultikey;
  if (name == "multivalue") return RetrievalTask::kMultivalue;
  return make_error(ErrorCode::kInvalidArgument, "--task: expected needle, passkey, multikey or multivalue, got '{}'", name);
}

std::string task_name(RetrievalTask t) {
  switch (t) {
    case RetrievalTask::kNeedle: return "needle";
    case RetrievalTask::kPasskey: return "passkey";
    case RetrievalTask::kMultikey: return "multikey";
    case RetrievalTask::kMultivalue: return "multivalue";
  }
  return "?";
}

namespace {

// Task texts other than the paper's needle: the passkey task as in Landmark Attention's test, the
// multi-key / multi-value needles as in RULER (docs/evaluation.md "Tasks", in our own words).
constexpr const char* kPasskeyFiller = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ";
constexpr const char* kPasskeyNeedle = "The pass key is {value}. Remember it. {value} is the pass key.";
constexpr const char* kPasskeyQuestion = "What is the pass key?";
constexpr const char* kPasskeyTemplate =
    "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you "
    "about the important information there.\n{context}\n{question} The pass key is";
constexpr const char* kMagicNeedle = "One of the special magic numbers for {key} is: {value}.";
constexpr const char* kMultikeyQuestion = "What is the special magic number for {key} mentioned in the provided text?";
constexpr const char* kMultivalueQuestion =
    "What are all the special magic numbers for {key} mentioned in the provided text?";
constexpr const char* kMagicTemplate =
    "Some special magic numbers are hidden within the following text. Make sure to memorize it. I will quiz you "
    "about the numbers afterwards.\n{context}\n{question} The special magic number(s) for {key} mentioned in the "
    "provided text:";

// Keys of the multi-key tasks: adjective-noun pairs drawn by hash.
constexpr const char* kAdjectives[] = {"amber", "brisk", "calm", "dusty", "eager", "faint", "gentle", "hollow",
                                       "icy", "jolly", "keen", "lively", "misty", "noble", "odd", "proud"};
constexpr const char* kNouns[] = {"anchor", "badger", "candle", "dragon", "engine", "falcon", "garden", "harbor",
                                  "island", "jacket", "kettle", "lantern", "meadow", "needle", "orchard", "pebble"};

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  size_t at = 0;
  while ((at = s.find(from, at)) != std::string::npos) {
    s.replace(at, from.size(), to);
    at += to.size();
  }
  return s;
}

uint64_t cell_key(uint64_t seed, int64_t length, double depth) {
  return mix64(seed ^ mix64(static_cast<uint64_t>(length) * 0x9E3779B97F4A7C15ULL ^
                            static_cast<uint64_t>(std::llround(depth * 1000))));
}

}  // namespace

Status NeedleConfig::validate() const {
  if (lengths.empty()) return make_error(ErrorCode::kInvalidArgument, "--lengths: no lengths");
  for (int64_t L : lengths) LONGCTX_RETURN_IF_ERROR(check_range<int64_t>("--lengths", L, 1, int64_t{1} << 31));
  if (depths.empty()) return make_error(ErrorCode::kInvalidArgument, "--depths: no depths");
  for (double d : depths) LONGCTX_RETURN_IF_ERROR(check_range<double>("--depths", d, 0, 100));
  LONGCTX_RETURN_IF_ERROR(check_range<int>("--max-new-tokens", max_new_tokens, 1, 1 << 20));
  LONGCTX_RETURN_IF_ERROR(check_range<int64_t>("--buffer", buffer_tokens, 0, int64_t{1} << 31));
  LONGCTX_RETURN_IF_ERROR(check_range<int>("--needles", num_needles, 1, 1000));
  // Each context keeps its length minus the buffer (and the needles) for the haystack: a length
  // at or below the buffer has none, which would stop the sweep at that cell.
  for (int64_t L : lengths) {
    if (L <= buffer_tokens) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--lengths: {} leaves no haystack after the {}-token --buffer; use lengths above the buffer", L,
                        buffer_tokens);
    }
  }
  if (!prompt_template.empty() && prompt_template.find("{context}") == std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "--prompt-template must contain {{context}}");
  }
  if (task != RetrievalTask::kNeedle && !needle.empty() && needle.find("{value}") == std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "--needle for --task {} must contain {{value}}", task_name(task));
  }
  return Status::ok();
}

NeedleConfig NeedleConfig::resolved() const {
  NeedleConfig c = *this;
  auto fill = [](std::string& s, const char* d) {
    if (s.empty()) s = d;
  };
  switch (task) {
    case RetrievalTask::kNeedle:
      fill(c.needle, kPaperNeedle);
      fill(c.question, kPaperQuestion);
      fill(c.answer, kPaperAnswer);
      fill(c.prompt_template, kPaperTemplate);
      break;
    case RetrievalTask::kPasskey:
      fill(c.needle, kPasskeyNeedle);
      fill(c.question, kPasskeyQuestion);
      fill(c.prompt_template, kPasskeyTemplate);
      break;
    case RetrievalTask::kMultikey:
    case RetrievalTask::kMultivalue:
      fill(c.needle, kMagicNeedle);
      fill(c.question, task == RetrievalTask::kMultikey ? kMultikeyQuestion : kMultivalueQuestion);
      fill(c.prompt_template, kMagicTemplate);
      break;
  }
  return c;
}

std::vector<int64_t> linspace_lengths(int64_t lo, int64_t hi, int n) {
  std::vector<int64_t> v;
  if (n <= 0) return v;
  if (n == 1) return {lo};
  for (int i = 0; i < n; ++i) {
    double x = static_cast<double>(lo) + (static_cast<double>(hi) - static_cast<double>(lo)) * i / (n - 1);
    v.push_back(std::llround(std::nearbyint(x)));  // round half to even, as numpy
  }
  return v;
}

std::vector<double> linspace_depths(int n) {
  std::vector<double> v;
  if (n == 1) return {0};
  for (int i = 0; i < n; ++i) v.push_back(std::nearbyint(100.0 * i / (n - 1)));
  return v;
}

namespace {
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t e = s.find(sep, start);
    out.push_back(s.substr(start, e == std::string::npos ? std::string::npos : e - start));
    if (e == std::string::npos) return out;
    start = e + 1;
  }
}
}  // namespace

Result<std::vector<int64_t>> parse_lengths(const std::string& text) {
  auto count = [](const std::string& s) -> Result<int64_t> {
    auto v = parse_token_count(s);
    if (!v.is_ok()) return make_error(ErrorCode::kInvalidArgument, "--lengths: '{}' is not a token count (e.g. 4000, 4K, 1M)", s);
    if (*v < 1 || *v > (uint64_t{1} << 31)) return make_error(ErrorCode::kInvalidArgument, "--lengths: {} outside [1, 2^31]", s);
    return static_cast<int64_t>(*v);
  };
  std::vector<std::string> parts = split(text, ':');
  if (parts.size() == 3) {
    LONGCTX_ASSIGN_OR_RETURN(int64_t lo, count(parts[0]));
    LONGCTX_ASSIGN_OR_RETURN(int64_t hi, count(parts[1]));
    LONGCTX_ASSIGN_OR_RETURN(int64_t n, parse_number<int64_t>("--lengths (count after the second ':')", parts[2]));
    LONGCTX_RETURN_IF_ERROR(check_range<int64_t>("--lengths (count after the second ':')", n, 1, 10000));
    if (hi < lo) return make_error(ErrorCode::kInvalidArgument, "--lengths '{}': the end is below the start", text);
    return linspace_lengths(lo, hi, static_cast<int>(n));
  }
  if (parts.size() != 1) return make_error(ErrorCode::kInvalidArgument, "--lengths '{}': expected START:END:COUNT or a list", text);
  std::vector<int64_t> out;
  for (const std::string& p : split(text, ',')) {
    LONGCTX_ASSIGN_OR_RETURN(int64_t v, count(p));
    out.push_back(v);
  }
  return out;
}

Result<std::vector<double>> parse_depths(const std::string& text) {
  // A bare number is a count; a comma list, or any value written with '%', is percents (so one
  // depth is "50%": "50" alone would be 50 evenly spaced depths).
  if (text.find(',') == std::string::npos && text.find('%') == std::string::npos) {
    LONGCTX_ASSIGN_OR_RETURN(int64_t n, parse_number<int64_t>("--depths", text));
    LONGCTX_RETURN_IF_ERROR(check_range<int64_t>("--depths (a count)", n, 1, 1000));
    return linspace_depths(static_cast<int>(n));
  }
  std::vector<double> out;
  for (std::string p : split(text, ',')) {
    if (!p.empty() && p.back() == '%') p.pop_back();
    LONGCTX_ASSIGN_OR_RETURN(double d, parse_number<double>("--depths", p));
    LONGCTX_RETURN_IF_ERROR(check_range<double>("--depths", d, 0, 100));
    out.push_back(d);
  }
  return out;
}

// ---- construction --------------------------------------------------------------------------

Result<Insertion> insert_needles(std::span<const int32_t> haystack, std::span<const PlacedNeedle> needles,
                                 int64_t length, int64_t buffer_tokens, const TextCodec& codec) {
  if (haystack.empty()) return make_error(ErrorCode::kInvalidArgument, "the haystack has no tokens");
  int64_t needle_tokens = 0;
  for (const auto& n : needles) needle_tokens += static_cast<int64_t>(n.ids.size());
  const int64_t keep = length - buffer_tokens - needle_tokens;
  if (keep < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "a context of {} tokens leaves no haystack after the {}-token buffer and {} needle tokens", length,
                      buffer_tokens, needle_tokens);
  }
  std::vector<int32_t> hay(static_cast<size_t>(keep));
  for (int64_t i = 0; i < keep; ++i) hay[static_cast<size_t>(i)] = haystack[static_cast<size_t>(i) % haystack.size()];

  // Insertion points in the cut haystack, each moved back to the previous sentence end.
  std::vector<int64_t> at(needles.size());
  for (size_t k = 0; k < needles.size(); ++k) {
    if (needles[k].depth >= 100) {
      at[k] = keep;
      continue;
    }
    int64_t p = static_cast<int64_t>(static_cast<double>(keep) * (needles[k].depth / 100.0));
    while (p > 0 && !codec.is_period(hay[static_cast<size_t>(p - 1)])) --p;
    at[k] = p;
  }
  // Splice in order of position (ties keep input order).
  std::vector<size_t> order(needles.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return at[a] < at[b]; });
  Insertion out;
  out.haystack_tokens = keep;
  out.needle_start.assign(needles.size(), 0);
  out.context.reserve(static_cast<size_t>(keep + needle_tokens));
  int64_t from = 0;
  for (size_t k : order) {
    out.context.insert(out.context.end(), hay.begin() + from, hay.begin() + at[k]);
    from = at[k];
    out.needle_start[k] = static_cast<int64_t>(out.context.size());
    out.context.insert(out.context.end(), needles[k].ids.begin(), needles[k].ids.end());
  }
  out.context.insert(out.context.end(), hay.begin() + from, hay.end());
  return out;
}

Result<CellPrompt> build_cell_prompt(const NeedleConfig& cfg, std::span<const int32_t> haystack, int64_t length,
                                     double depth, const TextCodec& codec) {
  CellPrompt p;
  const uint64_t key = cell_key(cfg.seed, length, depth);
  Rng rng(key);
  std::vector<std::string> needle_texts;
  std::vector<double> needle_depths;
  std::string asked_key;
  switch (cfg.task) {
    case RetrievalTask::kNeedle:
      needle_texts.push_back(cfg.needle);
      p.answer = cfg.answer;
      break;
    case RetrievalTask::kPasskey: {
      std::string v = std::to_string(10000 + rng.next() % 90000);
      needle_texts.push_back(replace_all(cfg.needle, "{value}", v));
      p.values = {v};
      p.answer = v;
      break;
    }
    case RetrievalTask::kMultikey:
    case RetrievalTask::kMultivalue: {
      // Distinct keys (multikey) or one key (multivalue); distinct 7-digit values.
      std::vector<std::string> keys;
      while (keys.size() < static_cast<size_t>(cfg.num_needles)) {
        std::string k = fmt::format("{}-{}", kAdjectives[rng.next() % 16], kNouns[rng.next() % 16]);
        if (cfg.task == RetrievalTask::kMultivalue && !keys.empty()) k = keys[0];
        else if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
        keys.push_back(k);
      }
      std::vector<std::string> values;
      while (values.size() < keys.size()) {
        std::string v = std::to_string(1000000 + rng.next() % 9000000);
        if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
      }
      for (size_t i = 0; i < keys.size(); ++i) {
        needle_texts.push_back(replace_all(replace_all(cfg.needle, "{key}", keys[i]), "{value}", values[i]));
      }
      asked_key = keys[0];
      p.values = cfg.task == RetrievalTask::kMultikey ? std::vector<std::string>{values[0]} : values;
      std::string joined;
      for (const auto& v : p.values) joined += (joined.empty() ? "" : " ") + v;
      p.answer = joined;
      break;
    }
  }
  // The asked needle goes at the cell's depth; the others at depths drawn from the cell's key.
  needle_depths.push_back(depth);
  for (size_t i = 1; i < needle_texts.size(); ++i) needle_depths.push_back(std::floor(rng.uniform() * 1000) / 10);

  std::vector<PlacedNeedle> needles(needle_texts.size());
  for (size_t i = 0; i < needle_texts.size(); ++i) {
    LONGCTX_RETURN_IF_ERROR(codec.encode("\n" + needle_texts[i] + "\n", &needles[i].ids));
    needles[i].depth = needle_depths[i];
  }
  LONGCTX_ASSIGN_OR_RETURN(Insertion ins, insert_needles(haystack, needles, length, cfg.buffer_tokens, codec));

  p.question = replace_all(cfg.question, "{key}", asked_key);
  std::string tmpl = replace_all(replace_all(cfg.prompt_template, "{question}", p.question), "{key}", asked_key);
  size_t at = tmpl.find("{context}");
  if (at == std::string::npos) return make_error(ErrorCode::kInvalidArgument, "the prompt template has no {{context}}");
  if (codec.bos_id() >= 0) p.ids.push_back(codec.bos_id());
  LONGCTX_RETURN_IF_ERROR(codec.encode(std::string_view(tmpl).substr(0, at), &p.ids));
  p.needle_position = static_cast<int64_t>(p.ids.size()) + ins.needle_start[0];
  p.ids.insert(p.ids.end(), ins.context.begin(), ins.context.end());
  LONGCTX_RETURN_IF_ERROR(codec.encode(std::string_view(tmpl).substr(at + 9), &p.ids));
  return p;
}

double task_score(const NeedleConfig& cfg, const CellPrompt& p, const std::string& response) {
  if (cfg.task == RetrievalTask::kNeedle) return word_recall(response, p.answer);
  return values_found(response, p.values);
}

// ---- haystack ------------------------------------------------------------------------------

Result<std::string> load_haystack(const std::string& path, const std::string& dpkg_dir) {
  namespace fs = std::filesystem;
  if (path.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(std::string text, sample_book_text(dpkg_dir));
    return text;
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(path, ec)) {
      std::string ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".txt" || ext == ".md")) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return make_error(ErrorCode::kNotFound, "--haystack '{}': no .txt or .md files", path);
    std::string all;
    for (const auto& f : files) {
      LONGCTX_ASSIGN_OR_RETURN(std::string t, read_file(f));
      all += t;
      if (!all.empty() && all.back() != '\n') all += '\n';
    }
    return all;
  }
  LONGCTX_ASSIGN_OR_RETURN(std::string t, read_file(path));
  if (t.empty()) return make_error(ErrorCode::kInvalidArgument, "--haystack '{}' is empty", path);
  return t;
}

Result<std::string> task_haystack(const NeedleConfig& cfg, const std::string& path, const std::string& dpkg_dir) {
  if (cfg.task != RetrievalTask::kPasskey) return load_haystack(path, dpkg_dir);
  std::string s;
  for (int i = 0; i < 64; ++i) s += kPasskeyFiller;
  return s;
}

// ---- results -------------------------------------------------------------------------------

nlohmann::json cell_to_json(const CellResult& c) {
  nlohmann::json j = {{"length", c.length}, {"depth", c.depth}};
  if (c.skipped) {
    j["skipped"] = c.skip_reason;
    return j;
  }
  j["prompt_tokens"] = c.prompt_tokens;
  j["needle_position"] = c.needle_position;
  j["completion_tokens"] = c.completion_tokens;
  j["response"] = c.response;
  j["score"] = c.score;
  j["rouge1_f"] = c.rouge1_f;
  j["seconds"] = c.seconds;
  return j;
}

Result<CellResult> cell_from_json(const nlohmann::json& j) {
  CellResult c;
  try {
    c.length = j.at("length").get<int64_t>();
    c.depth = j.at("depth").get<double>();
    if (j.contains("skipped")) {
      c.skipped = true;
      c.skip_reason = j.at("skipped").get<std::string>();
      return c;
    }
    c.prompt_tokens = j.at("prompt_tokens").get<int64_t>();
    c.needle_position = j.at("needle_position").get<int64_t>();
    c.completion_tokens = j.at("completion_tokens").get<int64_t>();
    c.response = j.at("response").get<std::string>();
    c.score = j.at("score").get<double>();
    c.rouge1_f = j.at("rouge1_f").get<double>();
    c.seconds = j.at("seconds").get<double>();
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kCorrupt, "needle result: {}", e.what());
  }
  return c;
}

SweepSummary summarize(const NeedleConfig& cfg, std::vector<CellResult> cells) {
  SweepSummary s;
  for (int64_t L : cfg.lengths) {
    for (double d : cfg.depths) {
      auto it = std::find_if(cells.begin(), cells.end(), [&](const CellResult& c) { return c.length == L && c.depth == d; });
      if (it == cells.end()) continue;
      s.cells.push_back(*it);
      if (it->skipped) {
        ++s.skipped;
      } else {
        ++s.measured;
        s.mean_score += it->score;
        s.mean_rouge1_f += it->rouge1_f;
      }
    }
  }
  if (s.measured) {
    s.mean_score /= static_cast<double>(s.measured);
    s.mean_rouge1_f /= static_cast<double>(s.measured);
  }
  return s;
}

// ---- sweep ---------------------------------------------------------------------------------

namespace {

Result<CellResult> run_cell(const NeedleConfig& cfg, std::span<const int32_t> haystack, const TextCodec& codec,
                            Generator& gen, int64_t length, double depth) {
  CellResult r;
  r.length = length;
  r.depth = depth;
  auto t0 = std::chrono::steady_clock::now();
  LONGCTX_ASSIGN_OR_RETURN(CellPrompt p, build_cell_prompt(cfg, haystack, length, depth, codec));
  r.prompt_tokens = static_cast<int64_t>(p.ids.size());
  r.needle_position = p.needle_position;
  std::optional<int64_t> ctx = gen.context_length();
  if (ctx && r.prompt_tokens + cfg.max_new_tokens > *ctx) {
    r.skipped = true;
    r.skip_reason = fmt::format("{} prompt + {} new tokens exceed the model's context of {}", r.prompt_tokens,
                                cfg.max_new_tokens, *ctx);
    return r;
  }
  GenerationRequest req;
  req.max_new_tokens = cfg.max_new_tokens;
  if (codec.exact()) {
    req.prompt_ids = p.ids;
  } else {
    LONGCTX_ASSIGN_OR_RETURN(req.prompt_text, codec.decode(p.ids));
  }
  auto c = gen.complete(req);
  if (!c.is_ok()) {
    // A remote server that refuses the prompt (e.g. longer than its context) answers 4xx:
    // recorded like a length beyond the known context.
    if (gen.concurrent() && c.status().code() == ErrorCode::kInvalidArgument) {
      r.skipped = true;
      r.skip_reason = "the server refused the prompt: " + c.status().message();
      return r;
    }
    return c.status().with_context(fmt::format("length {} depth {}", length, depth));
  }
  r.response = c->text;
  r.completion_tokens = c->completion_tokens;
  r.score = task_score(cfg, p, r.response);
  r.rouge1_f = rouge1_f(r.response, p.answer);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

Status run_sweep(const NeedleConfig& cfg, std::span<const int32_t> haystack, const TextCodec& codec, Generator& gen,
                 int concurrency, const std::vector<CellResult>& done,
                 const std::function<Status(const CellResult&)>& on_cell,
                 const std::function<void(const SweepProgress&)>& progress) {
  std::vector<std::pair<int64_t, double>> todo;
  SweepProgress prog;
  for (int64_t L : cfg.lengths) {
    for (double d : cfg.depths) {
      ++prog.total;
      prog.prompt_tokens_total += L;
      bool have = std::any_of(done.begin(), done.end(), [&](const CellResult& c) { return c.length == L && c.depth == d; });
      if (have) {
        ++prog.done;
        prog.prompt_tokens_done += L;
      } else {
        todo.emplace_back(L, d);
      }
    }
  }
  if (progress) progress(prog);
  std::mutex mu;
  std::atomic<size_t> next{0};
  Status first_error;
  auto worker = [&] {
    for (;;) {
      size_t i = next++;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (i >= todo.size() || !first_error.is_ok()) return;
      }
      auto r = run_cell(cfg, haystack, codec, gen, todo[i].first, todo[i].second);
      std::lock_guard<std::mutex> lock(mu);
      if (!first_error.is_ok()) return;
      Status st = r.is_ok() ? on_cell(*r) : r.status();
      if (!st.is_ok()) {
        first_error = st;
        return;
      }
      ++prog.done;
      prog.prompt_tokens_done += todo[i].first;
      prog.last_score = r->score;
      if (progress) progress(prog);
    }
  };
  const int threads = gen.concurrent() ? std::max(1, concurrency) : 1;
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return first_error;
}

}  // namespace longctx::eval
