#include "corpus/corpus_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/utf8.h"
#include "corpus/corpus_files.h"

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

void pad_with_zeros(std::string* s, size_t padding) {
  const size_t n = s->size();
  s->resize(n + padding, '\0');  // writes the bytes; shrinking back keeps the allocation and them
  s->resize(n);
}

Result<CorpusFiles> list_corpus_files(const CorpusConfig& cfg) {
  if (cfg.inputs.empty()) return make_error(ErrorCode::kInvalidArgument, "no corpus inputs given");
  CorpusFiles f;
  std::vector<std::string> abs_inputs;
  for (const auto& in : cfg.inputs) abs_inputs.push_back(std::filesystem::absolute(in).lexically_normal().string());
  LONGCTX_ASSIGN_OR_RETURN(auto listed, list_inputs(abs_inputs, {".jsonl", ".jsonl.zst", ".json.zst", ".txt"}));
  if (listed.empty()) return make_error(ErrorCode::kNotFound, "no .jsonl, .jsonl.zst or .txt files found in the inputs");
  for (auto& l : listed) {
    f.paths.push_back(std::move(l.path));
    f.problems.push_back(std::move(l.problem));
  }
  // The root: a single directory input is its own root; otherwise the common directory.
  std::error_code ec;
  if (abs_inputs.size() == 1 && std::filesystem::is_directory(abs_inputs[0], ec)) {
    f.root = abs_inputs[0];
    while (f.root.size() > 1 && f.root.back() == '/') f.root.pop_back();
  } else {
    f.root = common_directory(f.paths);
  }
  for (size_t i = 0; i < f.paths.size(); ++i) {
    f.relative.push_back(relative_path(f.paths[i], f.root));
    auto sz = f.problems[i].empty() ? file_size(f.paths[i]) : Result<uint64_t>(uint64_t{0});
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
  simdjson::dom::parser parser;
  std::vector<std::string> text_path, domain_path;  // the dotted field names, split
};

namespace {

std::vector<std::string> split_dotted(const std::string& dotted) {
  std::vector<std::string> out;
  if (dotted.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t dot = dotted.find('.', start);
    out.push_back(dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

// The value at a dotted path, reading a repeated key as its last occurrence (what Python's json
// module does: a later key overwrites an earlier one); a decimal component indexes an array.
// Returns false when some component is missing.
bool find_last(simdjson::dom::element e, const std::vector<std::string>& path, simdjson::dom::element* out) {
  for (const auto& key : path) {
    if (e.is_object()) {
      bool found = false;
      const simdjson::dom::object obj = e.get_object().value_unsafe();  // a copy: the result is a temporary
      for (auto field : obj) {
        if (field.key == key) {
          e = field.value;
          found = true;  // keep looking: the last occurrence wins
        }
      }
      if (!found) return false;
    } else if (e.is_array() && !key.empty() && key.find_first_not_of("0123456789") == std::string::npos &&
               key.size() < 10) {
      const simdjson::dom::array arr = e.get_array().value_unsafe();
      auto item = arr.at(std::stoul(key));
      if (item.error()) return false;
      e = item.value_unsafe();
    } else {
      return false;
    }
  }
  *out = e;
  return true;
}

const char* json_type_name(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY: return "array";
    case T::OBJECT: return "object";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE: return "number";
    case T::STRING: return "string";
    case T::BOOL: return "boolean";
    default: return "null";
  }
}

// A UTF-8 byte-order mark (U+FEFF) opening a file is not text: dropped from .jsonl and .txt alike.
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
void strip_bom(std::string* s) {
  if (s->compare(0, kUtf8Bom.size(), kUtf8Bom) == 0) s->erase(0, kUtf8Bom.size());
}

}  // namespace

CorpusFileReader::CorpusFileReader(const CorpusConfig& cfg, const CorpusFiles& files, uint32_t file_index,
                                   BadRecordStats* stats)
    : cfg_(cfg), files_(files), file_index_(file_index), stats_(stats), parser_(std::make_unique<Parser>()) {
  const std::string& p = files.paths[file_index];
  is_txt_ = p.size() >= 4 && p.compare(p.size() - 4, 4, ".txt") == 0;
  parser_->text_path = split_dotted(cfg.text_field);
  parser_->domain_path = split_dotted(cfg.domain_field);
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
  if (file_index_ < files_.problems.size() && !files_.problems[file_index_].empty()) {
    dead_ = true;  // a listing problem (corpus_files.h): one bad record for the whole entry
    LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kUnreadableFile, 0, files_.problems[file_index_]));
    return false;
  }
  if (is_txt_) {
    if (txt_done_) return false;
    txt_done_ = true;
    auto text = read_file(path);
    if (!text.is_ok()) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kUnreadableFile, 0, text.status().message()));
      return false;
    }
    strip_bom(&*text);
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
    if (rec == 1) strip_bom(&line_);
    if (line_.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines are not records
    if (!is_valid_utf8(line_)) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kInvalidUtf8, rec, "expected UTF-8, found invalid byte sequences"));
      continue;
    }
    // The whole line must be one JSON object (the DOM parser rejects trailing content). The parser
    // reads up to SIMDJSON_PADDING bytes past the line, which must be defined (pad_with_zeros).
    pad_with_zeros(&line_, simdjson::SIMDJSON_PADDING);
    simdjson::dom::element root;
    auto err = parser_->parser.parse(line_.data(), line_.size(), /*realloc_if_needed=*/false).get(root);
    if (!err && !root.is_object()) err = simdjson::INCORRECT_TYPE;
    if (err) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kMalformedJson, rec,
                                  fmt::format("expected a JSON object, found '{}...' ({})",
                                              utf8_prefix(line_, 40), simdjson::error_message(err))));
      continue;
    }
    simdjson::dom::element tv;
    if (!find_last(root, parser_->text_path, &tv)) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kMissingText, rec, fmt::format("expected a field '{}', found none", cfg_.text_field)));
      continue;
    }
    if (!tv.is_string()) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kNonStringText, rec,
                                  fmt::format("expected '{}' to be a string, found a JSON {}", cfg_.text_field,
                                              json_type_name(tv.type()))));
      continue;
    }
    std::string_view text = tv.get_string().value_unsafe();
    if (text.empty()) {
      LONGCTX_RETURN_IF_ERROR(bad(BadRecord::kEmptyText, rec, fmt::format("expected a non-empty '{}', found \"\"", cfg_.text_field)));
      continue;
    }
    doc->text.assign(text.data(), text.size());
    doc->domain = path_domain_;
    if (!parser_->domain_path.empty() && cfg_.domain_from_path.empty()) {
      simdjson::dom::element dv;
      if (find_last(root, parser_->domain_path, &dv) && dv.is_string() && !dv.get_string().value_unsafe().empty())
        doc->domain.assign(dv.get_string().value_unsafe());
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
