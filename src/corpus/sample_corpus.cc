#include "corpus/sample_corpus.h"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/json_util.h"
#include "core/run_dir.h"
#include "core/stream.h"
#include "corpus/text_convert.h"

namespace longctx {
namespace {

enum class Kind {
  kWhole,          // one file = one document
  kHtml,           // HTML page -> text, one document
  kRoff,           // man page -> text, one document
  kGroupByTopDir,  // files concatenated per directory below `group_root` (a "book")
  kGroupByDir,     // files concatenated per containing directory (a LaTeX package = one "paper")
  kShortPieces,    // text (POD) cut at paragraph boundaries into short web-like documents
  kPodQuestions,   // POD split at =head2: one question and its answer per document
  kRstQuestions,   // reStructuredText split at underlined headings: one question per document
};

struct Source {
  const char* domain;
  const char* package;
  const char* pattern;  // regex over the installed path
  Kind kind;
  const char* group_root = "";
};

// What feeds each domain (docs/corpus.md explains the choice).
const std::vector<Source>& sources() {
  static const std::vector<Source> s = {
      {"RedPajamaBook", "python3.11-doc", R"(/_sources/.*\.txt$)", Kind::kGroupByTopDir,
       "/usr/share/doc/python3.11/html/_sources/"},
      {"RedPajamaBook", "vim-runtime", R"(/doc/[^/]+\.txt$)", Kind::kWhole},
      {"RedPajamaBook", "bash-doc", R"(/bash(ref)?\.html$)", Kind::kHtml},
      {"RedPajamaBook", "debian-reference-en", R"(debian-reference\.en\.txt\.gz$)", Kind::kWhole},
      {"RedPajamaArXiv", "texlive-latex-base", R"(\.(tex|sty|cls|dtx|ltx)$)", Kind::kGroupByDir},
      {"RedPajamaArXiv", "texlive-latex-recommended", R"(\.(tex|sty|cls|dtx|ltx)$)", Kind::kGroupByDir},
      {"RedPajamaGithub", "libpython3.11-stdlib", R"(\.py$)", Kind::kWhole},
      {"RedPajamaGithub", "perl-modules-5.36", R"(\.pm$)", Kind::kWhole},
      {"RedPajamaGithub", "vim-runtime", R"(\.vim$)", Kind::kWhole},
      {"RedPajamaGithub", "libstdc++-12-dev", R"(/include/c\+\+/12/[^.]*(\.h|\.tcc)?$)", Kind::kWhole},
      {"RedPajamaCommonCrawl", "python3.11-doc", R"(/html/.*\.html$)", Kind::kHtml},
      {"RedPajamaCommonCrawl", "maxima-doc", R"(\.html$)", Kind::kHtml},
      {"RedPajamaC4", "perl-doc", R"(/pod/perl(?!faq)[a-z0-9]*\.pod$)", Kind::kShortPieces},
      {"RedPajamaWikipedia", "manpages", R"(/man/man[1-8]/.*\.gz$)", Kind::kRoff},
      {"RedPajamaWikipedia", "manpages-dev", R"(/man/man[1-8]/.*\.gz$)", Kind::kRoff},
      {"RedPajamaStackExchange", "perl-doc", R"(/pod/perlfaq[0-9]\.pod$)", Kind::kPodQuestions},
      {"RedPajamaStackExchange", "python3.11-doc", R"(/_sources/faq/.*\.txt$)", Kind::kRstQuestions},
  };
  return s;
}

struct SampleDoc {
  std::string domain, origin, text;
  uint64_t key = 0;  // xxh64(domain + origin): orders documents and assigns shards
};

Result<std::string> read_maybe_gz(const std::string& path) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
    gzFile g = gzopen(path.c_str(), "rb");
    if (!g) return make_error(ErrorCode::kIo, "cannot open '{}'", path);
    std::string out;
    char buf[1 << 16];
    int n;
    while ((n = gzread(g, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    int err = 0;
    gzerror(g, &err);
    gzclose(g);
    if (n < 0 || (err != Z_OK && err != Z_STREAM_END)) return make_error(ErrorCode::kCorrupt, "'{}': corrupt gzip data", path);
    return out;
  }
  return read_file(path);
}

Result<std::vector<std::string>> package_files(const std::string& dpkg_dir, const std::string& pkg) {
  for (const std::string& name : {pkg, pkg + ":amd64", pkg + ":all", pkg + ":arm64"}) {
    std::string list = dpkg_dir + "/info/" + name + ".list";
    if (!file_exists(list)) continue;
    LONGCTX_ASSIGN_OR_RETURN(std::string text, read_file(list));
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t e = text.find('\n', pos);
      if (e == std::string::npos) e = text.size();
      std::string p = text.substr(pos, e - pos);
      pos = e + 1;
      std::error_code ec;
      if (!p.empty() && std::filesystem::is_regular_file(p, ec) && !std::filesystem::is_symlink(p, ec)) out.push_back(p);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  return make_error(ErrorCode::kNotFound, "Debian package '{}' is not installed (run scripts/setup.sh)", pkg);
}

std::map<std::string, std::string> installed_versions(const std::string& dpkg_dir) {
  std::map<std::string, std::string> v;
  auto text = read_file(dpkg_dir + "/status");
  if (!text.is_ok()) return v;
  std::string pkg;
  size_t pos = 0;
  const std::string& t = *text;
  while (pos < t.size()) {
    size_t e = t.find('\n', pos);
    if (e == std::string::npos) e = t.size();
    std::string line = t.substr(pos, e - pos);
    pos = e + 1;
    if (line.rfind("Package: ", 0) == 0) pkg = line.substr(9);
    else if (line.rfind("Version: ", 0) == 0 && !pkg.empty()) v[pkg] = line.substr(9);
  }
  return v;
}

// Short web-like documents: paragraphs accumulated until a target size drawn from a log-normal
// (median ~1,200 bytes, about 300 tokens: C4's median in paper.md), a pure function of the origin.
void cut_short_pieces(const std::string& domain, const std::string& origin, const std::string& text,
                      std::vector<SampleDoc>* out) {
  std::string cur;
  int piece = 0;
  Rng rng(xxh64(origin));
  auto draw = [&] { return 1200 * std::exp(0.8 * rng.normal()); };
  double target = draw();
  auto emit = [&] {
    out->push_back({domain, origin + "#" + std::to_string(piece++), tidy_text(cur), 0});
    cur.clear();
    target = draw();
  };
  // Cut at a paragraph break once the target is reached, or at any line break past 4x the target
  // (some POD sections have no blank lines for pages).
  size_t pos = 0;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    std::string_view line(text.data() + pos, e - pos);
    pos = e + 1;
    bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
    double n = static_cast<double>(cur.size());
    if ((blank && n >= target) || n >= 4 * target) {
      emit();
      if (blank) continue;
    }
    cur.append(line);
    cur += '\n';
  }
  if (cur.size() >= 200) emit();
}

void split_pod_questions(const std::string& domain, const std::string& origin, const std::string& pod,
                         std::vector<SampleDoc>* out) {
  size_t pos = 0;
  int q = 0;
  while ((pos = pod.find("\n=head2 ", pos)) != std::string::npos) {
    size_t end = pod.find("\n=head", pos + 8);
    std::string section = pod.substr(pos + 1, (end == std::string::npos ? pod.size() : end) - pos - 1);
    std::string text = pod_to_text(section);
    if (text.size() >= 100) out->push_back({domain, origin + "#q" + std::to_string(q), text, 0});
    ++q;
    pos = end == std::string::npos ? pod.size() : end;
  }
}

// A heading is a text line followed by a line of '=' or '-' at least as long.
void split_rst_questions(const std::string& domain, const std::string& origin, const std::string& rst,
                         std::vector<SampleDoc>* out) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos <= rst.size()) {
    size_t e = rst.find('\n', pos);
    if (e == std::string::npos) e = rst.size();
    lines.push_back(rst.substr(pos, e - pos));
    pos = e + 1;
  }
  auto is_rule = [](const std::string& l, size_t n) {
    return n > 0 && l.size() >= n && l.find_first_not_of(l[0]) == std::string::npos && (l[0] == '=' || l[0] == '-');
  };
  std::string cur;
  int q = 0;
  auto emit = [&] {
    std::string t = tidy_text(cur);
    if (t.size() >= 100) out->push_back({domain, origin + "#q" + std::to_string(q++), t, 0});
    cur.clear();
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i + 1 < lines.size() && !lines[i].empty() && lines[i][0] != ' ' && is_rule(lines[i + 1], lines[i].size())) {
      emit();
      cur = lines[i] + "\n";
      ++i;
      continue;
    }
    cur += lines[i] + "\n";
  }
  emit();
}

}  // namespace

std::vector<std::string> sample_corpus_packages() {
  std::vector<std::string> p;
  for (const auto& s : sources())
    if (std::find(p.begin(), p.end(), s.package) == p.end()) p.push_back(s.package);
  return p;
}

namespace {

// What the run wrote: the summary and the manifest (sample.json) the run lifecycle publishes last.
struct SampleWritten {
  SampleCorpusSummary summary;
  nlohmann::json manifest;
};

Result<SampleWritten> write_sample_corpus(const SampleCorpusConfig& cfg, const ProgressFn& progress) {
  ProgressThrottle throttle(progress, 4);
  // ---- 1. collect the files of every source ----
  struct Task {
    size_t source;
    std::vector<std::string> files;  // one document group
    std::string origin;
  };
  std::vector<Task> tasks;
  std::vector<std::string> missing;
  for (size_t si = 0; si < sources().size(); ++si) {
    const Source& src = sources()[si];
    auto files = package_files(cfg.dpkg_dir, src.package);
    if (!files.is_ok()) {
      if (std::find(missing.begin(), missing.end(), src.package) == missing.end()) missing.push_back(src.package);
      continue;
    }
    std::regex re(src.pattern, std::regex::ECMAScript);
    std::vector<std::string> matched;
    for (const auto& f : *files)
      if (std::regex_search(f, re)) matched.push_back(f);
    if (src.kind == Kind::kGroupByTopDir || src.kind == Kind::kGroupByDir) {
      std::map<std::string, std::vector<std::string>> groups;
      for (const auto& f : matched) {
        std::string key;
        if (src.kind == Kind::kGroupByDir) {
          key = f.substr(0, f.rfind('/'));
        } else {
          std::string rel = relative_path(f, src.group_root);
          auto slash = rel.find('/');
          key = std::string(src.group_root) + (slash == std::string::npos ? "_top" : rel.substr(0, slash));
        }
        groups[key].push_back(f);
      }
      for (auto& [k, v] : groups) tasks.push_back({si, v, k});
    } else {
      for (const auto& f : matched) tasks.push_back({si, {f}, f});
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : " ") + m;
    return make_error(ErrorCode::kNotFound, "the sample corpus needs Debian packages that are not installed: {} "
                      "(scripts/setup.sh installs them)", list);
  }

  // ---- 2. convert in parallel (each task's output depends only on its files) ----
  std::vector<std::vector<SampleDoc>> outputs(tasks.size());
  std::atomic<size_t> next{0}, done_bytes{0}, finished{0};
  std::mutex err_mu;
  Status first_error;
  int threads = cfg.threads > 0 ? cfg.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto work = [&] {
    for (size_t t; (t = next.fetch_add(1)) < tasks.size();) {
      const Task& task = tasks[t];
      const Source& src = sources()[task.source];
      std::string combined;
      for (const auto& f : task.files) {
        auto raw = read_maybe_gz(f);
        if (!raw.is_ok()) {
          std::lock_guard<std::mutex> lk(err_mu);
          if (first_error.is_ok()) first_error = raw.status();
          return;
        }
        std::string text = repair_utf8(*raw);
        if (src.kind == Kind::kHtml) text = html_to_text(text);
        else if (src.kind == Kind::kRoff) text = roff_to_text(text);
        if (src.kind == Kind::kShortPieces) {
          cut_short_pieces(src.domain, f, pod_to_text(text), &outputs[t]);
        } else if (src.kind == Kind::kRstQuestions) {
          split_rst_questions(src.domain, f, text, &outputs[t]);
        } else if (src.kind == Kind::kPodQuestions) {
          split_pod_questions(src.domain, f, text, &outputs[t]);
        } else {
          if (!combined.empty()) combined += "\n\n";
          combined += tidy_text(text);
        }
        done_bytes += raw->size();
      }
      // Man-page aliases (".so other.3") and other stubs are not documents.
      if (!combined.empty() && combined.size() >= 200)
        outputs[t].push_back({src.domain, task.origin, std::move(combined), 0});
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&] {
      work();
      ++finished;
    });
  while (finished.load() < static_cast<size_t>(threads) && progress) {
    ProgressSnapshot s;
    s.phase = "read packages";
    s.docs = next.load();
    s.bytes = done_bytes.load();
    throttle.report(s);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& th : pool) th.join();
  if (!first_error.is_ok()) return first_error;

  // ---- 3. order, split train/holdout, shard, write ----
  std::vector<SampleDoc> docs;
  for (auto& o : outputs)
    for (auto& d : o) {
      d.key = xxh64(d.domain + "\n" + d.origin);
      docs.push_back(std::move(d));
    }
  std::sort(docs.begin(), docs.end(), [](const SampleDoc& a, const SampleDoc& b) {
    return a.key != b.key ? a.key < b.key : a.origin < b.origin;
  });
  LONGCTX_RETURN_IF_ERROR(make_dirs(cfg.out_dir + "/train/chunk1"));
  LONGCTX_RETURN_IF_ERROR(make_dirs(cfg.out_dir + "/validation/chunk1"));
  const int ns = std::max(1, cfg.num_shards);
  std::vector<std::vector<const SampleDoc*>> shards(ns + 1);  // last one = holdout
  SampleCorpusSummary sum;
  for (const auto& d : docs) {
    bool hold = unit_hash(d.key, 0x5A11) < cfg.holdout_fraction;
    shards[hold ? ns : static_cast<int>(mix64(d.key) % ns)].push_back(&d);
    if (hold) {
      ++sum.holdout_documents;
    } else {
      sum.domain_documents[d.domain]++;
      sum.domain_bytes[d.domain] += d.text.size();
      ++sum.documents;
      sum.bytes += d.text.size();
    }
  }
  std::atomic<int> next_shard{0};
  std::vector<Status> shard_status(ns + 1);
  auto write_shard = [&] {
    for (int s; (s = next_shard.fetch_add(1)) <= ns;) {
      std::string path = s == ns ? cfg.out_dir + "/validation/chunk1/example_holdout_0.jsonl.zst"
                                 : fmt::format("{}/train/chunk1/example_train_{}.jsonl.zst", cfg.out_dir, s);
      auto w = ZstdWriter::open(path + ".tmp", 3);
      if (!w.is_ok()) {
        shard_status[s] = w.status();
        continue;
      }
      Status st;
      for (const SampleDoc* d : shards[s]) {
        nlohmann::json j = {{"text", d->text}, {"meta", {{"redpajama_set_name", d->domain}}}};
        st = (*w)->write(j.dump() + "\n");
        if (!st.is_ok()) break;
      }
      if (st.is_ok()) st = (*w)->close();
      if (st.is_ok()) st = rename_file(path + ".tmp", path);
      shard_status[s] = st;
    }
  };
  pool.clear();
  for (int i = 0; i < threads; ++i) pool.emplace_back(write_shard);
  for (auto& th : pool) th.join();
  for (const auto& st : shard_status) LONGCTX_RETURN_IF_ERROR(st);

  auto versions = installed_versions(cfg.dpkg_dir);
  for (const auto& p : sample_corpus_packages()) sum.package_versions[p] = versions.count(p) ? versions[p] : "?";
  nlohmann::json m = {{"format", "SlimPajama-style JSON lines, zstd-compressed"},
                      {"train_shards", ns},
                      {"documents", sum.documents},
                      {"bytes", sum.bytes},
                      {"holdout_documents", sum.holdout_documents},
                      {"domains", nlohmann::json::object()},
                      {"packages", sum.package_versions}};
  for (const auto& [d, n] : sum.domain_documents) m["domains"][d] = {{"documents", n}, {"bytes", sum.domain_bytes[d]}};
  if (progress) {
    ProgressSnapshot s;
    s.phase = "done";
    s.docs = sum.documents;
    s.bytes = sum.bytes;
    s.final = true;
    throttle.report(s, true);
  }
  return SampleWritten{std::move(sum), std::move(m)};
}

}  // namespace

Result<SampleCorpusSummary> build_sample_corpus(const SampleCorpusConfig& cfg, const ProgressFn& progress) {
  // The run lifecycle (core/run_dir.h), before any work: only a sample corpus is replaced, and only
  // with --overwrite (a SlimPajama copy's train/ is never taken for ours); sample.json comes last.
  const nlohmann::json fp = {{"shards", cfg.num_shards}, {"holdout", cfg.holdout_fraction}};
  LONGCTX_ASSIGN_OR_RETURN(
      RunDir run, RunDir::open({cfg.out_dir, &kinds::kSampleCorpus, fp, cfg.overwrite, /*resumable=*/false}));
  auto written = write_sample_corpus(cfg, progress);
  if (!written.is_ok()) return run.fail(written.status());
  LONGCTX_RETURN_IF_ERROR(run.fail(run.publish(written->manifest)));
  return std::move(written->summary);
}

Result<std::string> load_text_pool(const std::string& dpkg_dir, uint64_t max_bytes) {
  // Prose, code and markup from the same packages, interleaved so any slice is realistic text.
  std::string pool;
  const std::vector<std::pair<std::string, std::string>> picks = {
      {"python3.11-doc", R"(/_sources/.*\.txt$)"}, {"libpython3.11-stdlib", R"(\.py$)"},
      {"perl-doc", R"(/pod/.*\.pod$)"}, {"vim-runtime", R"(/doc/[^/]+\.txt$)"}};
  std::vector<std::vector<std::string>> lists;
  for (const auto& [pkg, pat] : picks) {
    LONGCTX_ASSIGN_OR_RETURN(auto files, package_files(dpkg_dir, pkg));
    std::regex re(pat);
    std::vector<std::string> m;
    for (const auto& f : files)
      if (std::regex_search(f, re)) m.push_back(f);
    lists.push_back(m);
  }
  for (size_t i = 0; pool.size() < max_bytes; ++i) {
    bool any = false;
    for (const auto& l : lists) {
      if (i >= l.size()) continue;
      any = true;
      auto t = read_maybe_gz(l[i]);
      if (t.is_ok()) pool += repair_utf8(*t) + "\n\n";
      if (pool.size() >= max_bytes) break;
    }
    if (!any) break;
  }
  if (pool.size() < (1u << 20)) return make_error(ErrorCode::kNotFound, "too little local text for the synthetic corpus (run scripts/setup.sh)");
  return pool;
}

Result<std::string> sample_book_text(const std::string& dpkg_dir) {
  // The Book domain's debian-reference-en source (sources() above), read as a kWhole document.
  LONGCTX_ASSIGN_OR_RETURN(auto files, package_files(dpkg_dir, "debian-reference-en"));
  std::regex re(R"(debian-reference\.en\.txt\.gz$)");
  for (const auto& f : files) {
    if (!std::regex_search(f, re)) continue;
    LONGCTX_ASSIGN_OR_RETURN(std::string text, read_maybe_gz(f));
    return tidy_text(repair_utf8(text));
  }
  return make_error(ErrorCode::kNotFound, "the Debian Reference text is not installed (package debian-reference-en; run scripts/setup.sh)");
}

}  // namespace longctx
