#include "core/outputs.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/file_io.h"

namespace longctx {
namespace fs = std::filesystem;

namespace {

// ---- sniffing helpers (regular files only; they never follow a symbolic link) ----

std::string head(const std::string& path, size_t n) {
  if (path_type(path) != PathType::kRegular) return {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {};
  std::string s(n, '\0');
  s.resize(std::fread(s.data(), 1, n, f));
  std::fclose(f);
  return s;
}

bool starts_with(const std::string& path, std::string_view magic) {
  return head(path, magic.size()) == magic;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string base_name(const std::string& path) {
  auto p = path.find_last_of('/');
  return p == std::string::npos ? path : path.substr(p + 1);
}

std::string dir_name(const std::string& path) {
  auto p = path.find_last_of('/');
  if (p == std::string::npos) return ".";
  return p == 0 ? "/" : path.substr(0, p);
}

// A small JSON object (reports, manifests): parsed whole when under 16 MB, else not recognised.
nlohmann::json json_object(const std::string& path) {
  if (path_type(path) != PathType::kRegular) return nullptr;
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec || size > (16u << 20)) return nullptr;
  std::string text = head(path, size);
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() ? j : nlohmann::json(nullptr);
}

bool json_has_keys(const std::string& path, std::initializer_list<const char*> keys) {
  nlohmann::json j = json_object(path);
  if (!j.is_object()) return false;
  for (const char* k : keys)
    if (!j.contains(k)) return false;
  return true;
}

// j[key] when it is a string, else "" (never throws: the files sniffed here may be anything).
std::string string_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string json_format_name(const std::string& path) {
  nlohmann::json j = json_object(path);
  if (!j.is_object() || !j.contains("format") || !j["format"].is_object()) return {};
  return string_at(j["format"], "name");
}

// resume.json of a RunDir names its kind.
bool resume_kind_is(const std::string& dir, std::string_view id) {
  return string_at(json_object(dir + "/resume.json"), "kind") == id;
}

bool exists(const std::string& p) { return path_type(p) != PathType::kMissing; }

bool any_entry(const std::string& dir, bool (*pred)(std::string_view)) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (pred(e.path().filename().string())) return true;
  return false;
}

// "name" without a trailing ".tmp" (a writer's temporary name belongs with the file).
std::string_view untmp(std::string_view e) { return ends_with(e, ".tmp") ? e.substr(0, e.size() - 4) : e; }

bool digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "shard-00007.lcpk", "llmc_000000.bin", "model-00001-of-00003.safetensors".
bool numbered(std::string_view e, std::string_view prefix, std::string_view suffix) {
  return e.size() > prefix.size() + suffix.size() && e.substr(0, prefix.size()) == prefix && ends_with(e, suffix) &&
         digits(e.substr(prefix.size(), e.size() - prefix.size() - suffix.size()));
}

bool one_of(std::string_view e, std::initializer_list<std::string_view> names) {
  for (auto n : names)
    if (e == n) return true;
  return false;
}

// ---- document store (docs/store.md) ----
constexpr std::array<std::string_view, 2> kStorePublished = {"tokens.bin", "docs.bin"};
bool store_member(std::string_view e) {
  e = untmp(e);
  return one_of(e, {"manifest.json", "manifest.json.partial", "tokens.bin", "docs.bin", "tokens.bin.partial",
                    "docs.bin.partial", "resume.json"});
}
bool store_recognise(const std::string& d) {
  if (exists(d + "/manifest.json")) return json_format_name(d + "/manifest.json") == "longctx-document-store";
  return resume_kind_is(d, "document-store") || exists(d + "/tokens.bin.partial") || exists(d + "/docs.bin.partial") ||
         starts_with(d + "/tokens.bin", "LCTXTOK1") || starts_with(d + "/docs.bin", "LCTXDOC1");
}

// ---- mixture: packed directory (docs/mixing.md "Packed shards") ----
bool mixture_member(std::string_view e) {
  e = untmp(e);
  return one_of(e, {"manifest.json", "manifest.json.partial", "resume.json", "mix-params.json"}) ||
         numbered(e, "shard-", ".lcpk");
}
// What `mix --export` and `mix --plan-only --out` write inside the mixture directory.
bool mixture_attachment(std::string_view e) {
  e = untmp(e);
  return one_of(e, {"rows.jsonl", "megatron.bin", "megatron.idx", "plan.json"}) || numbered(e, "llmc_", ".bin");
}
bool is_shard_name(std::string_view e) { return numbered(e, "shard-", ".lcpk"); }
bool mixture_recognise(const std::string& d) {
  if (exists(d + "/manifest.json")) return json_format_name(d + "/manifest.json") == "longctx-packed";
  return resume_kind_is(d, "mixture") || exists(d + "/mix-params.json") ||
         json_has_keys(d + "/plan.json", {"config", "chunks"}) || any_entry(d, is_shard_name);
}

// ---- model checkpoint folder (Hugging Face layout) ----
bool checkpoint_member(std::string_view e) {
  e = untmp(e);
  return one_of(e, {"config.json", "model.safetensors", "model.safetensors.index.json", "resume.json"}) ||
         (e.substr(0, 6) == "model-" && ends_with(e, ".safetensors"));
}
bool is_weights_name(std::string_view e) {
  return e == "model.safetensors" || e == "model.safetensors.index.json" ||
         (e.substr(0, 6) == "model-" && ends_with(e, ".safetensors"));
}
bool checkpoint_recognise(const std::string& d) {
  return resume_kind_is(d, "checkpoint") || any_entry(d, is_weights_name) ||
         json_has_keys(d + "/config.json", {"hidden_size", "num_hidden_layers"});
}

// ---- training run directory (docs/training.md; written by `longctx train`, src/train) ----
// "step-000060/" checkpoints (and their ".tmp" while written), run.json, metrics.jsonl, the loss
// figures, and summary.json last. The train command keeps its own lifecycle (RunFiles in
// src/train/checkpoint.h); the kind lets every other command recognise and refuse a run by name.
bool is_step_name(std::string_view e) { return numbered(e, "step-", ""); }
bool training_member(std::string_view e) {
  e = untmp(e);
  return is_step_name(e) || one_of(e, {"run.json", "metrics.jsonl", "summary.json", "loss.png", "loss.svg",
                                       "val-loss.png", "val-loss.svg"});
}
bool training_recognise(const std::string& d) { return string_at(json_object(d + "/run.json"), "format") == "longctx-train-run"; }

// ---- needle sweep folder (docs/formats.md "Needle sweep folder"; longctx needle, src/eval) ----
// Cells are appended to results.partial.jsonl while the sweep runs; results.jsonl and results.csv
// are published with needle.json; the heatmap is drawn just before.
constexpr std::array<std::string_view, 2> kNeedlePublished = {"results.jsonl", "results.csv"};
bool needle_member(std::string_view e) {
  e = untmp(e);
  return one_of(e, {"needle.json", "needle.json.partial", "resume.json", "results.partial.jsonl", "results.jsonl",
                    "results.jsonl.partial", "results.csv", "results.csv.partial", "heatmap.png", "heatmap.svg"});
}
bool needle_recognise(const std::string& d) {
  if (exists(d + "/needle.json")) return string_at(json_object(d + "/needle.json"), "format") == "longctx-needle-run";
  return resume_kind_is(d, "needle-run") || exists(d + "/results.partial.jsonl");
}

// ---- loss evaluation folder (docs/formats.md "Loss results"; longctx loss --out, src/eval) ----
bool loss_member(std::string_view e) {
  e = untmp(e);
  return one_of(e, {"loss.json", "loss.json.partial", "resume.json", "loss.md", "baseline.json", "difference.json",
                    "difference.md", "difference.png", "difference.svg", "position-loss.png", "position-loss.svg"});
}
bool loss_recognise(const std::string& d) {
  if (exists(d + "/loss.json")) return string_at(json_object(d + "/loss.json"), "format") == "longctx-loss";
  return resume_kind_is(d, "loss-run");
}

// ---- corpora (SlimPajama layout) ----
bool sample_member(std::string_view e) {
  e = untmp(e);
  return one_of(e, {"sample.json", "resume.json", "train", "validation"});
}
bool sample_recognise(const std::string& d) {
  return resume_kind_is(d, "sample-corpus") || json_has_keys(d + "/sample.json", {"train_shards", "holdout_documents"});
}
bool synth_member(std::string_view e) {
  e = untmp(e);
  return one_of(e, {"synth.json", "synth.partial.json", "resume.json", "train"});
}
bool synth_recognise(const std::string& d) {
  return resume_kind_is(d, "synth-corpus") || exists(d + "/synth.partial.json") ||
         json_has_keys(d + "/synth.json", {"size_bytes", "shard_bytes"});
}

// ---- single files ----
bool megatron_recognise(const std::string& p) {
  const std::string magic("MMIDIDX\0\0", 9);
  if (ends_with(p, ".idx")) return starts_with(p, magic);
  if (ends_with(p, ".bin")) return starts_with(p.substr(0, p.size() - 4) + ".idx", magic);
  return false;
}
bool llmc_recognise(const std::string& p) {
  std::string h = head(p, 4);
  if (h.size() < 4) return false;
  int32_t magic = 0;
  std::memcpy(&magic, h.data(), 4);  // little-endian hosts only (as every reader here)
  return magic == 20240520 || magic == 20240801;
}
bool jsonl_rows_recognise(const std::string& p) { return starts_with(p, "{\"input_ids\":"); }
bool figure_recognise(const std::string& p) {
  if (starts_with(p, "\x89PNG\r\n\x1a\n")) return true;
  std::string h = head(p, 512);
  return h.rfind("<svg", 0) == 0 || (h.rfind("<?xml", 0) == 0 && h.find("<svg") != std::string::npos);
}
bool stats_json_recognise(const std::string& p) { return json_has_keys(p, {"thresholds", "domains"}); }
bool report_json_recognise(const std::string& p) { return json_has_keys(p, {"before", "after", "long_threshold"}); }
bool plan_json_recognise(const std::string& p) { return json_has_keys(p, {"config", "chunks", "pieces"}); }
bool markdown_recognise(const std::string& p) {
  std::string h = head(p, 16);
  return h.rfind("| domain |", 0) == 0 || h.rfind("### Mixture:", 0) == 0;
}
bool npy_recognise(const std::string& p) { return starts_with(p, "\x93NUMPY"); }
bool gguf_recognise(const std::string& p) { return starts_with(p, "GGUF"); }
// A SentencePiece ModelProto starts with its first piece (field 1, length-delimited: tag 0x0A).
bool spm_model_recognise(const std::string& p) { return ends_with(p, ".model") && head(p, 1) == "\x0a"; }
// spm_train's vocabulary: "<piece>\t<score>" lines.
bool spm_vocab_recognise(const std::string& p) {
  std::string h = head(p, 256);
  auto nl = h.find('\n');
  return ends_with(p, ".vocab") && nl != std::string::npos && h.substr(0, nl).find('\t') != std::string::npos;
}
bool store_file_recognise(const std::string& p) { return starts_with(p, "LCTXTOK1") || starts_with(p, "LCTXDOC1"); }
bool shard_recognise(const std::string& p) { return starts_with(p, "LCTXPAK1"); }
bool safetensors_recognise(const std::string& p) {
  std::string h = head(p, 9);
  return h.size() == 9 && h[8] == '{' && ends_with(p, ".safetensors");
}

}  // namespace

namespace kinds {
const OutputKind kDocumentStore{.id = "document-store", .name = "a document store", .directory = true,
                                .recognise = store_recognise, .manifest = "manifest.json", .member = store_member,
                                .published = kStorePublished};
const OutputKind kMixture{.id = "mixture", .name = "a mixture (packed shards)", .directory = true,
                          .recognise = mixture_recognise, .manifest = "manifest.json", .member = mixture_member,
                          .attachment = mixture_attachment};
const OutputKind kCheckpoint{.id = "checkpoint", .name = "a model checkpoint folder", .directory = true,
                             .recognise = checkpoint_recognise, .manifest = "config.json", .member = checkpoint_member};
const OutputKind kTrainingRun{.id = "training-run", .name = "a training run directory", .directory = true,
                              .recognise = training_recognise, .manifest = "summary.json", .member = training_member};
const OutputKind kNeedleRun{.id = "needle-run", .name = "a needle sweep folder", .directory = true,
                            .recognise = needle_recognise, .manifest = "needle.json", .member = needle_member,
                            .published = kNeedlePublished, .sole = true};
const OutputKind kLossRun{.id = "loss-run", .name = "a loss evaluation folder", .directory = true,
                          .recognise = loss_recognise, .manifest = "loss.json", .member = loss_member, .sole = true};
const OutputKind kSampleCorpus{.id = "sample-corpus", .name = "a sample corpus", .directory = true,
                               .recognise = sample_recognise, .manifest = "sample.json", .member = sample_member};
const OutputKind kSynthCorpus{.id = "synth-corpus", .name = "a synthetic corpus", .directory = true,
                              .recognise = synth_recognise, .manifest = "synth.json", .member = synth_member};
const OutputKind kMegatronExport{.id = "megatron", .name = "a Megatron export (.bin/.idx)", .recognise = megatron_recognise};
const OutputKind kLlmcShard{.id = "llmc", .name = "an llm.c token shard", .recognise = llmc_recognise};
const OutputKind kJsonlRows{.id = "jsonl-rows", .name = "a JSON-lines rows export", .stdout_ok = true,
                            .recognise = jsonl_rows_recognise};
const OutputKind kFigure{.id = "figure", .name = "a figure (PNG or SVG)", .recognise = figure_recognise};
const OutputKind kStatsJson{.id = "stats-json", .name = "corpus statistics (JSON)", .stdout_ok = true,
                            .recognise = stats_json_recognise};
const OutputKind kReportJson{.id = "report-json", .name = "a mixture report (JSON)", .stdout_ok = true,
                             .recognise = report_json_recognise};
const OutputKind kPlanJson{.id = "plan-json", .name = "a mixture plan (JSON)", .recognise = plan_json_recognise};
const OutputKind kMarkdown{.id = "markdown", .name = "a Markdown table written by longctx", .stdout_ok = true,
                           .recognise = markdown_recognise};
const OutputKind kNpy{.id = "npy", .name = "a NumPy array (.npy)", .stdout_ok = true, .recognise = npy_recognise};
const OutputKind kGguf{.id = "gguf", .name = "a GGUF model file", .recognise = gguf_recognise};
const OutputKind kTokenizerModel{.id = "spm-model", .name = "a SentencePiece tokenizer model", .recognise = spm_model_recognise};
const OutputKind kTokenizerVocab{.id = "spm-vocab", .name = "a SentencePiece vocabulary", .recognise = spm_vocab_recognise};
const OutputKind kStoreDataFile{.id = "store-file", .name = "a document store's data file", .recognise = store_file_recognise};
const OutputKind kPackedShard{.id = "packed-shard", .name = "a mixture's packed shard", .recognise = shard_recognise};
const OutputKind kSafetensors{.id = "safetensors", .name = "model weights (safetensors)", .recognise = safetensors_recognise};
}  // namespace kinds

namespace {

// In recognition order: binary magics first, then the text formats.
constexpr const OutputKind* kFileKinds[] = {
    &kinds::kStoreDataFile, &kinds::kPackedShard, &kinds::kMegatronExport, &kinds::kLlmcShard,
    &kinds::kNpy,           &kinds::kGguf,        &kinds::kSafetensors,    &kinds::kFigure,
    &kinds::kJsonlRows,     &kinds::kStatsJson,   &kinds::kReportJson,     &kinds::kPlanJson,
    &kinds::kMarkdown,      &kinds::kTokenizerModel, &kinds::kTokenizerVocab};
constexpr const OutputKind* kDirKinds[] = {&kinds::kDocumentStore, &kinds::kMixture,      &kinds::kTrainingRun,
                                           &kinds::kCheckpoint,    &kinds::kSampleCorpus, &kinds::kSynthCorpus,
                                           &kinds::kNeedleRun,     &kinds::kLossRun};

const OutputKind* identify_dir(const std::string& dir) {
  for (const OutputKind* k : kDirKinds)
    if (k->recognise(dir)) return k;
  return nullptr;
}

std::string stdout_hint(const OutputKind& kind) { return kind.stdout_ok ? " (or '-' for standard output)" : ""; }

Status refuse_special(const std::string& path, PathType t, const OutputKind& kind, std::string_view flag) {
  return make_error(ErrorCode::kInvalidArgument,
                    "'{}' is {}; longctx never writes to or replaces a device, FIFO, socket or symbolic link: "
                    "choose another {}{}", path, path_type_name(t), flag, stdout_hint(kind));
}

Status check_dir_output(const std::string& path, const OutputKind& kind, bool overwrite, std::string_view flag) {
  const OutputKind* found = identify_dir(path);
  if (found == &kind) {
    if (output_finished(path, kind) && !overwrite)
      return make_error(ErrorCode::kInvalidArgument,
                        "'{}' already holds {} (finished); pass --overwrite to replace it, or choose another {}", path,
                        kind.name, flag);
    return Status::ok();
  }
  if (found)
    return make_error(ErrorCode::kInvalidArgument, "'{}' is {}, not {}; choose another {}", path, found->name,
                      kind.name, flag);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    const std::string name = e.path().filename().string();
    if (name != ".lock" && (kind.sole || kind.member(name)))
      return make_error(ErrorCode::kInvalidArgument,
                        "'{}' holds '{}', which is not part of {}; choose another {} (nothing was changed)", path, name,
                        kind.name, flag);
  }
  if (ec) return make_error(ErrorCode::kIo, "cannot list '{}': {}", path, ec.message());
  return Status::ok();
}

}  // namespace

const OutputKind* identify_output(const std::string& path, std::string* owner) {
  const PathType t = path_type(path);
  if (t == PathType::kDirectory) return identify_dir(path);
  if (t != PathType::kRegular) return nullptr;
  for (const OutputKind* k : kFileKinds)
    if (k->recognise(path)) return k;
  const std::string parent = dir_name(path);
  if (const OutputKind* d = identify_dir(parent); d && d->member(base_name(path))) {
    if (owner) *owner = parent;
    return d;
  }
  return nullptr;
}

Status check_output(const std::string& path, const OutputKind& kind, bool overwrite, std::string_view flag) {
  if (path.empty()) return make_error(ErrorCode::kInvalidArgument, "{}: an empty path", flag);
  if (path == "-") {
    if (kind.stdout_ok) return Status::ok();
    return make_error(ErrorCode::kInvalidArgument, "{} -: {} cannot be written to standard output; give a path", flag,
                      kind.name);
  }
  const PathType t = path_type(path);
  if (t == PathType::kMissing) return Status::ok();
  if (t != PathType::kRegular && t != PathType::kDirectory) return refuse_special(path, t, kind, flag);
  if (kind.directory) {
    if (t != PathType::kDirectory) {
      const OutputKind* found = identify_output(path);
      return make_error(ErrorCode::kInvalidArgument, "'{}' is {}, not {} (a directory); choose another {}", path,
                        found ? found->name : path_type_name(t), kind.name, flag);
    }
    return check_dir_output(path, kind, overwrite, flag);
  }
  if (t == PathType::kDirectory) {
    const OutputKind* found = identify_dir(path);
    return make_error(ErrorCode::kInvalidArgument, "'{}' is {}, not {}; choose another {}", path,
                      found ? found->name : "a directory", kind.name, flag);
  }
  std::string owner;
  const OutputKind* found = identify_output(path, &owner);
  if (found == &kind) {
    if (overwrite) return Status::ok();
    return make_error(ErrorCode::kInvalidArgument, "'{}' already exists ({}); pass --overwrite to replace it, or choose another {}",
                      path, kind.name, flag);
  }
  if (found && !owner.empty())
    return make_error(ErrorCode::kInvalidArgument, "'{}' is part of {} ('{}'), not {}; choose another {}", path,
                      found->name, owner, kind.name, flag);
  if (found)
    return make_error(ErrorCode::kInvalidArgument, "'{}' is {}, not {}; choose another {}", path, found->name,
                      kind.name, flag);
  return make_error(ErrorCode::kInvalidArgument,
                    "'{}' exists and is not {} (longctx does not recognise its content, so it is never replaced); "
                    "choose another {}", path, kind.name, flag);
}

bool output_finished(const std::string& dir, const OutputKind& kind) {
  return !kind.manifest.empty() && path_type(dir + "/" + std::string(kind.manifest)) == PathType::kRegular;
}

bool holds_kind_members(const std::string& dir, const OutputKind& kind) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name != ".lock" && kind.member && kind.member(name)) return true;
  }
  return false;
}

Status remove_kind_files(const std::string& dir, const OutputKind& kind) {
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name == ".lock") continue;
    if ((kind.member && kind.member(name)) || (kind.attachment && kind.attachment(name))) doomed.push_back(e.path());
  }
  if (ec) return make_error(ErrorCode::kIo, "cannot list '{}': {}", dir, ec.message());
  for (const auto& p : doomed) {
    // remove_all does not follow symbolic links: a link is removed, never what it points to.
    fs::remove_all(p, ec);
    if (ec) return make_error(ErrorCode::kIo, "cannot remove '{}': {}", p.string(), ec.message());
  }
  return Status::ok();
}

}  // namespace longctx
