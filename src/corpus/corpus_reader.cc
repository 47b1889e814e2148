#include "corpus/corpus_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/utf8.h"

namespace longctx {

const char* bad_record_name(BadRecord r) {
  switch (r) {
    case BadRecord::kMalformedJson: return "malformed_json";
    case BadRecord::kMissingText: return "missing_text";
    case BadRecord::kNonStringText: return "non_string_text";
    case BadRecord::kInvalidUtf8: return "invalid_utf8";
    case BadRecord::kEmptyText: return "empty_text";
    case BadRecord::kCorruptFile: return "corrupt_file";
    case BadRecord::kUnreadableFile: return "unreadable_file";
    case BadRecord::kRecordTooLarge: return "record_too_large";
    default: return "?";
  }
}

uint64_t BadRecordStats::total() const {
  uint64_t t = 0;
  for (auto c : counts) t += c;
  return t;
}

void BadRecordStats::add(const BadRecordExample& ex, size_t max_examples_per_reason) {
  ++counts[static_cast<int>(ex.reason)];
  size_t have = std::count_if(examples.begin(), examples.end(), [&](const auto& e) { return e.reason == ex.reason; });
  if (have < max_examples_per_reason) examples.push_back(ex);
}

void BadRecordStats::merge(const BadRecordStats& o) {
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += o.counts[i];
  for (const auto& e : o.examples) {
    size_t have = std::count_if(examples.begin(), examples.end(), [&](const auto& x) { return x.reason == e.reason; });
    if (have < 3) examples.push_back(e);
  }
}

nlohmann::json BadRecordStats::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  nlohmann::json c = nlohmann::json::object();
  for (int i = 0; i < static_cast<int>(BadRecord::kCount); ++i) c[bad_record_name(static_cast<BadRecord>(i))] = counts[i];
  j["counts"] = c;
  j["total"] = total();
  nlohmann::json ex = nlohmann::json::array();
  for (const auto& e : examples)
    ex.push_back({{"reason", bad_record_name(e.reason)}, {"where", e.where}, {"detail", e.detail}});
  j["examples"] = ex;
  return j;
}

BadRecordStats BadRecordStats::from_json(const nlohmann::json& j) {
  BadRecordStats s;
  for (int i = 0; i < static_cast<int>(BadRecord::kCount); ++i) {
    const char* n = bad_record_name(static_cast<BadRecord>(i));
    if (j.contains("counts") && j["counts"].contains(n)) s.counts[i] = j["counts"][n].get<uint64_t>();
  }
  if (j.contains("examples"))
    for (const auto& e : j["examples"]) {
      BadRecordExample ex;
      std::string r = e.value("reason", "");
      ex.reason = BadRecord::kMalformedJson;
      for (int i = 0; i < static_cast<int>(BadRecord::kCount); ++i)
        if (r == bad_record_name(static_cast<BadRecord>(i))) ex.reason = static_cast<BadRecord>(i);
      ex.where = e.value("where", "");
      ex.detail = e.value("detail", "");
      s.examples.push_back(ex);
    }
  return s;
}

bool is_valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

Result<CorpusFiles> list_corpus_files(const CorpusConfig& cfg) {
  if (cfg.inputs.empty()) return make_error(ErrorCode::kInvalidArgument, "no corpus inputs given");
  CorpusFiles f;
  std::vector<std::string> abs_inputs;
  for (const auto& in : cfg.inputs) abs_inputs.push_back(std::filesystem::absolute(in).lexically_normal().string());
  LONGCTX_ASSIGN_OR_RETURN(f.paths, expand_inputs(abs_inputs, {".jsonl", ".jsonl.zst", ".json.zst", ".txt"}));
  if (f.paths.empty()) return make_error(ErrorCode::kNotFound, "no .jsonl, .jsonl.zst or .txt files found in the inputs");
  // The root: a single directory input is its own root; otherwise the common directory.
  std::error_code ec;
  if (abs_inputs.size() == 1 && std::filesystem::is_directory(abs_inputs[0], ec)) {
    f.root = abs_inputs[0];
    while (f.root.size() > 1 && f.root.back() == '/') f.root.pop_back();
  } else {
    f.root = common_directory(f.paths);
  }
  for (const auto& p : f.paths) {
    f.relative.push_back(relative_path(p, f.root));
    auto sz = file_size(p);
    f.sizes.push_back(sz.is_ok() ? *sz : 0);
  }
  return f;
}

std::vector<uint32_t> task_file_indices(const CorpusFiles& files, uint32_t task, uint32_t num_tasks) {
  std::vector<uint32_t> out;
  if (num_tasks <= 1) {
    for (uint32_t i = 0; i < files.paths.size(); ++i) out.push_back(i);
    return out;
  }
  uint64_t total = 0;
  for (auto s : files.sizes) total += s + 1;  // +1: empty files still get a task
  uint64_t start = 0;
  for (uint32_t i = 0; i < files.paths.size(); ++i) {
    // A file belongs to the task whose byte range holds the file's first byte.
    uint64_t t = static_cast<uint64_t>((static_cast<__uint128_t>(start) * num_tasks) / total);
    if (t == task) out.push_back(i);
    start += files.sizes[i] + 1;
  }
  return out;
}

struct CorpusFileReader::Parser {
  simdjson::ondemand::parser parser;
  std::string text_ptr, domain_ptr;
};

static std::string to_json_pointer(const std::string& dotted) {
  if (dotted.empty()) return "";
  std::string out = "/";
  for (char c : dotted) {
    if (c == '.') out += '/';
    else if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

CorpusFileReader::CorpusFileReader(const CorpusConfig& cfg, const CorpusFiles& files, uint32_t file_index,
                                   BadRecordStats* stats)
    : cfg_(cfg), files_(files), file_index_(file_index), stats_(stats), parser_(std::make_unique<Parser>()) {
  const std::string& p = files.paths[file_index];
  is_txt_ = p.size() >= 4 && p.compare(p.size() - 4, 4, ".txt") == 0;
  parser_->text_ptr = to_json_pointer(cfg.text_field);
  parser_->domain_ptr = to_json_pointer(cfg.domain_field);
  path_domain_ = cfg.default_domain;
  const std::string& rel = files.relative[file_index];
  if (!cfg.domain_from_path.empty()) {
    std::smatch m;
    std::regex re(cfg.domain_from_path);
    if (std::regex_search(rel, m, re) && m.size() > 1) path_domain_ = m[1].str();
  } else if (is_txt_) {
    auto slash = rel.find('/');
    if (slash != std::string::npos) path_domain_ = rel.substr(0, slash);
  }
}

CorpusFileReader::~CorpusFileReader() = default;

uint64_t CorpusFileReader::raw_bytes_read() const { return lines_ ? lines_->source().raw_bytes_read() : 0; }

Status CorpusFileReader::bad(BadRecord why, uint64_t record, const std::string& detail) {
  // Messages and manifests are JSON/UTF-8: file names and quoted input are sanitised. The
  // manifest keeps the path relative to the corpus root (independent of where it is mounted).
  std::string clean = sanitize_utf8(detail);
  if (!cfg_.skip_bad_records || stats_ == nullptr) {
    return make_error(ErrorCode::kCorrupt, "{}:{}: {} ({}); rerun with --skip-bad-records to skip and count such records",
                      sanitize_utf8(files_.paths[file_index_]), record, clean, bad_record_name(why));
  }
  stats_->add({why, fmt::format("{}:{}", sanitize_utf8(files_.relative[file_index_]), record), clean});
  return Status::ok();
}

Result<bool> CorpusFileReader::next(Document* doc) {
  if (dead_) return false;
  const std::string& path = files_.paths[file_index_];
  if (is_txt_) {
    if (txt_done_) return false;
    txt_done_ = true;
    auto text = read_file(path);
    if (!text.is_ok()) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kUnreadableFile, 0, text.status().message()));
      return false;
    }
    if (!is_valid_utf8(*text)) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kInvalidUtf8, 0, "expected UTF-8 text, found invalid byte sequences"));
      return false;
    }
    if (text->empty()) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kEmptyText, 0, "expected a non-empty document, found an empty file"));
      return false;
    }
    doc->text = std::move(*text);
    doc->domain = path_domain_;
    doc->file_index = file_index_;
    doc->record = 1;
    doc->id_hash = xxh64(files_.relative[file_index_] + ":1");
    return true;
  }
  if (!opened_) {
    opened_ = true;
    auto src = open_byte_source(path);
    if (!src.is_ok()) {
      dead_ = true;
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kUnreadableFile, 0, src.status().message()));
      return false;
    }
    lines_ = std::make_unique<LineReader>(std::move(*src));
    lines_->set_max_line(cfg_.max_record_bytes);
  }
  for (;;) {
    if (!lines_->next(line_)) {
      if (!lines_->status().is_ok()) {
        dead_ = true;
        const Status& st = lines_->status();
        BadRecord why = st.code() == ErrorCode::kCorrupt ? BadRecord::kCorruptFile : BadRecord::kUnreadableFile;
        LONGCTX_RETURN_IF_ERROR(bad(why, lines_->line_number() + 1, st.message()));
      }
      return false;
    }
    uint64_t rec = lines_->line_number();
    if (lines_->too_long()) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kRecordTooLarge, rec,
                                  fmt::format("expected a JSON line of at most {} bytes, found a longer one", cfg_.max_record_bytes)));
      continue;
    }
    if (line_.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines are not records
    if (!is_valid_utf8(line_)) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kInvalidUtf8, rec, "expected UTF-8, found invalid byte sequences"));
      continue;
    }
    line_.reserve(line_.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document jd;
    auto err = parser_->parser.iterate(line_.data(), line_.size(), line_.capacity()).get(jd);
    simdjson::ondemand::object obj;
    if (!err) err = jd.get_object().get(obj);
    // The whole line must be one object: consume it, then nothing may follow.
    if (!err) {
      for (auto field : obj) {
        simdjson::ondemand::raw_json_string key;
        if ((err = field.key().get(key))) break;
      }
    }
    const char* rest = nullptr;
    if (!err && !jd.current_location().get(rest)) {  // an error here means: at the end
      const char* end = line_.data() + line_.size();
      if (rest >= line_.data() && rest < end &&
          std::string_view(rest, end - rest).find_first_not_of(" \t\r") != std::string_view::npos)
        err = simdjson::TRAILING_CONTENT;
    }
    if (err) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kMalformedJson, rec,
                                  fmt::format("expected a JSON object, found '{}...' ({})",
                                              utf8_prefix(line_, 40), simdjson::error_message(err))));
      continue;
    }
    simdjson::ondemand::value tv;
    err = jd.at_pointer(parser_->text_ptr).get(tv);
    if (err == simdjson::NO_SUCH_FIELD || err == simdjson::INVALID_JSON_POINTER || err == simdjson::INCORRECT_TYPE) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kMissingText, rec, fmt::format("expected a field '{}', found none", cfg_.text_field)));
      continue;
    }
    std::string_view text;
    if (!err) {
      simdjson::ondemand::json_type t;
      err = tv.type().get(t);
      if (!err && t != simdjson::ondemand::json_type::string) {
        LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kNonStringText, rec,
                                    fmt::format("expected '{}' to be a string, found a JSON {}", cfg_.text_field,
                                                t == simdjson::ondemand::json_type::number   ? "number"
                                                : t == simdjson::ondemand::json_type::null   ? "null"
                                                : t == simdjson::ondemand::json_type::array  ? "array"
                                                : t == simdjson::ondemand::json_type::object ? "object"
                                                                                             : "boolean")));
        continue;
      }
      if (!err) err = tv.get_string().get(text);
    }
    if (err) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kMalformedJson, rec, fmt::format("cannot read '{}': {}", cfg_.text_field, simdjson::error_message(err))));
      continue;
    }
    if (text.empty()) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kEmptyText, rec, fmt::format("expected a non-empty '{}', found \"\"", cfg_.text_field)));
      continue;
    }
    doc->text.assign(text.data(), text.size());
    doc->domain = path_domain_;
    if (!parser_->domain_ptr.empty() && cfg_.domain_from_path.empty()) {
      std::string_view dom;
      if (!jd.at_pointer(parser_->domain_ptr).get_string().get(dom) && !dom.empty()) doc->domain.assign(dom);
    }
    doc->file_index = file_index_;
    doc->record = rec;
    doc->id_hash = xxh64(fmt::format("{}:{}", files_.relative[file_index_], rec));
    return true;
  }
}

Status CorpusFileReader::skip_to_after(uint64_t record) {
  if (is_txt_) {
    if (record > 0) txt_done_ = true;
    return Status::ok();
  }
  if (!opened_) {
    opened_ = true;
    LONGCTX_ASSIGN_OR_RETURN(auto src, open_byte_source(files_.paths[file_index_]));
    lines_ = std::make_unique<LineReader>(std::move(src));
    lines_->set_max_line(cfg_.max_record_bytes);
  }
  while (lines_->line_number() < record) {
    if (!lines_->next(line_)) {
      if (!lines_->status().is_ok()) return lines_->status();
      return make_error(ErrorCode::kCorrupt, "'{}' has fewer than {} lines: it changed since the interrupted run",
                        files_.paths[file_index_], record);
    }
  }
  return Status::ok();
}

}  // namespace longctx
