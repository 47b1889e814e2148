#include "tokenizer/hf_spec.h"

#include <simdjson.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "tokenizer/flat_map.h"

namespace longctx {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

Status corrupt(const std::string& where, const std::string& what) {
  return Status(ErrorCode::kCorrupt, where + ": " + what);
}
Status unsupported(const std::string& what) {
  return Status(ErrorCode::kUnsupported, "Hugging Face tokenizer not supported: " + what);
}

// Typed field access. A missing or null optional field gives the default.
bool has(const object& o, std::string_view key) {
  element e;
  return !o.at_key(key).get(e) && !e.is_null();
}
Result<std::string> get_string(const object& o, std::string_view key, const std::string& where,
                               const char* def = nullptr) {
  element e;
  if (o.at_key(key).get(e) || e.is_null()) {
    if (def) return std::string(def);
    return corrupt(where, fmt::format("missing string field '{}'", key));
  }
  std::string_view s;
  if (e.get_string().get(s)) return corrupt(where, fmt::format("field '{}' is not a string", key));
  return std::string(s);
}
Result<bool> get_bool(const object& o, std::string_view key, const std::string& where, bool def) {
  element e;
  if (o.at_key(key).get(e) || e.is_null()) return def;
  bool b = false;
  if (e.get_bool().get(b)) return corrupt(where, fmt::format("field '{}' is not true/false", key));
  return b;
}
Result<uint32_t> get_u32(const object& o, std::string_view key, const std::string& where, uint32_t def) {
  element e;
  if (o.at_key(key).get(e) || e.is_null()) return def;
  uint64_t v = 0;
  if (e.get_uint64().get(v) || v > UINT32_MAX)
    return corrupt(where, fmt::format("field '{}' is not an integer in 0..4294967295", key));
  return static_cast<uint32_t>(v);
}
Result<object> get_object(const element& e, const std::string& where) {
  object o;
  if (e.get_object().get(o)) return corrupt(where, "not a JSON object");
  return o;
}
// {"String": s} or {"Regex": r}
Result<HfPattern> get_pattern(const object& o, const std::string& where) {
  element pe;
  if (o.at_key("pattern").get(pe)) return corrupt(where, "missing 'pattern'");
  LONGCTX_ASSIGN_OR_RETURN(object p, get_object(pe, where + ".pattern"));
  HfPattern out;
  if (has(p, "String")) {
    LONGCTX_ASSIGN_OR_RETURN(out.text, get_string(p, "String", where + ".pattern"));
  } else if (has(p, "Regex")) {
    out.is_regex = true;
    LONGCTX_ASSIGN_OR_RETURN(out.text, get_string(p, "Regex", where + ".pattern"));
  } else {
    return corrupt(where + ".pattern", "expected {\"String\": ...} or {\"Regex\": ...}");
  }
  if (out.text.empty()) return unsupported(where + ": an empty pattern");
  return out;
}
std::string pattern_desc(const HfPattern& p) {
  return fmt::format("{}({:?})", p.is_regex ? "Regex" : "String", p.text);
}
// Exactly one character (the library's `char` fields).
Result<std::string> get_char(const object& o, std::string_view key, const std::string& where) {
  LONGCTX_ASSIGN_OR_RETURN(std::string s, get_string(o, key, where));
  auto c = static_cast<unsigned char>(s.empty() ? 0 : s[0]);
  size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
  if (s.empty() || s.size() != len) return corrupt(where, fmt::format("field '{}' is not one character", key));
  return s;
}

// Calls fn(child, path) for each element of the array o[key] (a Sequence's list).
template <typename Fn>
Status each_in_sequence(const object& o, const char* key, const std::string& where, Fn&& fn) {
  element list;
  array a;
  if (o.at_key(key).get(list) || list.get_array().get(a))
    return corrupt(where, fmt::format("Sequence without a '{}' array", key));
  size_t i = 0;
  for (element child : a) LONGCTX_RETURN_IF_ERROR(fn(child, fmt::format("{}.{}[{}]", where, key, i++)));
  return Status::ok();
}

Status parse_normalizer(const element& e, const std::string& where, HfSpec* spec, int depth) {
  if (e.is_null()) return Status::ok();
  if (depth > 16) return corrupt(where, "normalizers nested too deeply");
  LONGCTX_ASSIGN_OR_RETURN(object o, get_object(e, where));
  LONGCTX_ASSIGN_OR_RETURN(std::string type, get_string(o, "type", where));
  HfNormalizerStep step;
  if (type == "Sequence") {
    return each_in_sequence(o, "normalizers", where, [&](const element& child, const std::string& path) {
      return parse_normalizer(child, path, spec, depth + 1);
    });
  }
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    step.kind = type == "NFC"    ? HfNormalizerStep::kNfc
                : type == "NFD"  ? HfNormalizerStep::kNfd
                : type == "NFKC" ? HfNormalizerStep::kNfkc
                                 : HfNormalizerStep::kNfkd;
    spec->normalizer_desc += (spec->normalizer_desc.empty() ? "" : ", ") + type;
  } else if (type == "Prepend") {
    step.kind = HfNormalizerStep::kPrepend;
    LONGCTX_ASSIGN_OR_RETURN(step.content, get_string(o, "prepend", where));
    spec->normalizer_desc += fmt::format("{}Prepend({:?})", spec->normalizer_desc.empty() ? "" : ", ", step.content);
  } else if (type == "Replace") {
    step.kind = HfNormalizerStep::kReplace;
    LONGCTX_ASSIGN_OR_RETURN(step.pattern, get_pattern(o, where));
    LONGCTX_ASSIGN_OR_RETURN(step.content, get_string(o, "content", where));
    spec->normalizer_desc += fmt::format("{}Replace({} -> {:?})", spec->normalizer_desc.empty() ? "" : ", ",
                                         pattern_desc(step.pattern), step.content);
  } else {
    return unsupported(fmt::format("normalizer {} (supported: NFC, NFD, NFKC, NFKD, Prepend, Replace, Sequence)", type));
  }
  spec->normalizers.push_back(std::move(step));
  return Status::ok();
}

Result<HfSplitBehavior> parse_behavior(const std::string& b, const std::string& where) {
  if (b == "Removed") return HfSplitBehavior::kRemoved;
  if (b == "Isolated") return HfSplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return HfSplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return HfSplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return HfSplitBehavior::kContiguous;
  return corrupt(where, fmt::format("unknown Split behavior '{}'", b));
}

// Metaspace's prepend_scheme, with the older add_prefix_space field (false means never).
Result<HfPrependScheme> parse_prepend_scheme(const object& o, const std::string& where) {
  LONGCTX_ASSIGN_OR_RETURN(std::string s, get_string(o, "prepend_scheme", where, "always"));
  HfPrependScheme scheme;
  if (s == "first") {
    scheme = HfPrependScheme::kFirst;
  } else if (s == "always") {
    scheme = HfPrependScheme::kAlways;
  } else if (s == "never") {
    scheme = HfPrependScheme::kNever;
  } else {
    return corrupt(where, fmt::format("prepend_scheme '{}' is not first, always or never", s));
  }
  if (has(o, "add_prefix_space")) {
    LONGCTX_ASSIGN_OR_RETURN(bool aps, get_bool(o, "add_prefix_space", where, true));
    if (!aps) {
      if (scheme != HfPrependScheme::kNever && has(o, "prepend_scheme"))
        return corrupt(where, "add_prefix_space=false contradicts prepend_scheme");
      scheme = HfPrependScheme::kNever;
    }
  }
  return scheme;
}

Status parse_pre_tokenizer(const element& e, const std::string& where, HfSpec* spec, int depth) {
  if (e.is_null()) return Status::ok();
  if (depth > 16) return corrupt(where, "pre-tokenizers nested too deeply");
  LONGCTX_ASSIGN_OR_RETURN(object o, get_object(e, where));
  LONGCTX_ASSIGN_OR_RETURN(std::string type, get_string(o, "type", where));
  HfPreTokenizerStep step;
  std::string desc;
  if (type == "Sequence") {
    return each_in_sequence(o, "pretokenizers", where, [&](const element& child, const std::string& path) {
      return parse_pre_tokenizer(child, path, spec, depth + 1);
    });
  }
  if (!spec->pre_tokenizers.empty() && spec->pre_tokenizers.back().kind == HfPreTokenizerStep::kByteLevel)
    return unsupported(fmt::format("{}: pre-tokenizer {} after ByteLevel", where, type));
  if (type == "Split") {
    step.kind = HfPreTokenizerStep::kSplit;
    LONGCTX_ASSIGN_OR_RETURN(step.pattern, get_pattern(o, where));
    LONGCTX_ASSIGN_OR_RETURN(std::string b, get_string(o, "behavior", where));
    LONGCTX_ASSIGN_OR_RETURN(step.behavior, parse_behavior(b, where));
    LONGCTX_ASSIGN_OR_RETURN(step.invert, get_bool(o, "invert", where, false));
    desc = fmt::format("Split({}, {}{})", pattern_desc(step.pattern), b, step.invert ? ", invert" : "");
  } else if (type == "Metaspace") {
    step.kind = HfPreTokenizerStep::kMetaspace;
    LONGCTX_ASSIGN_OR_RETURN(step.replacement, get_char(o, "replacement", where));
    LONGCTX_ASSIGN_OR_RETURN(step.prepend_scheme, parse_prepend_scheme(o, where));
    LONGCTX_ASSIGN_OR_RETURN(step.split, get_bool(o, "split", where, true));
    static const char* kScheme[] = {"first", "always", "never"};
    desc = fmt::format("Metaspace({:?}, prepend {}, split {})", step.replacement,
                       kScheme[static_cast<int>(step.prepend_scheme)], step.split);
  } else if (type == "ByteLevel") {
    step.kind = HfPreTokenizerStep::kByteLevel;
    LONGCTX_ASSIGN_OR_RETURN(step.add_prefix_space, get_bool(o, "add_prefix_space", where, true));
    LONGCTX_ASSIGN_OR_RETURN(step.use_regex, get_bool(o, "use_regex", where, true));
    desc = fmt::format("ByteLevel(add_prefix_space {}, GPT-2 regex {})", step.add_prefix_space, step.use_regex);
  } else {
    return unsupported(fmt::format("pre-tokenizer {} (supported: Split, Metaspace, ByteLevel, Sequence)", type));
  }
  spec->pre_tokenizer_desc += (spec->pre_tokenizer_desc.empty() ? "" : ", ") + desc;
  spec->pre_tokenizers.push_back(std::move(step));
  return Status::ok();
}

// Decoders the library has but we do not run make decode() fail (encode still works).
Status parse_decoder(const element& e, const std::string& where, HfSpec* spec, int depth) {
  if (depth > 16) return corrupt(where, "decoders nested too deeply");
  LONGCTX_ASSIGN_OR_RETURN(object o, get_object(e, where));
  LONGCTX_ASSIGN_OR_RETURN(std::string type, get_string(o, "type", where));
  HfDecoderStep step;
  std::string desc = type;
  if (type == "Sequence") {
    return each_in_sequence(o, "decoders", where, [&](const element& child, const std::string& path) {
      return parse_decoder(child, path, spec, depth + 1);
    });
  }
  if (type == "Replace") {
    step.kind = HfDecoderStep::kReplace;
    LONGCTX_ASSIGN_OR_RETURN(step.pattern, get_pattern(o, where));
    LONGCTX_ASSIGN_OR_RETURN(step.content, get_string(o, "content", where));
    desc = fmt::format("Replace({} -> {:?})", pattern_desc(step.pattern), step.content);
  } else if (type == "ByteFallback") {
    step.kind = HfDecoderStep::kByteFallback;
  } else if (type == "Fuse") {
    step.kind = HfDecoderStep::kFuse;
  } else if (type == "Strip") {
    step.kind = HfDecoderStep::kStrip;
    LONGCTX_ASSIGN_OR_RETURN(step.content, get_char(o, "content", where));
    LONGCTX_ASSIGN_OR_RETURN(step.start, get_u32(o, "start", where, 0));
    LONGCTX_ASSIGN_OR_RETURN(step.stop, get_u32(o, "stop", where, 0));
    desc = fmt::format("Strip({:?}, {}, {})", step.content, step.start, step.stop);
  } else if (type == "Metaspace") {
    step.kind = HfDecoderStep::kMetaspace;
    LONGCTX_ASSIGN_OR_RETURN(step.replacement, get_char(o, "replacement", where));
    LONGCTX_ASSIGN_OR_RETURN(HfPrependScheme scheme, parse_prepend_scheme(o, where));
    step.prepend_never = scheme == HfPrependScheme::kNever;
  } else if (type == "ByteLevel") {
    step.kind = HfDecoderStep::kByteLevel;
  } else {
    if (spec->decoder_unsupported.empty())
      spec->decoder_unsupported = fmt::format("decoder {} (supported: ByteLevel, Metaspace, Replace, ByteFallback, "
                                              "Fuse, Strip, Sequence)", type);
    spec->decoder_desc += (spec->decoder_desc.empty() ? "" : ", ") + type + " (unsupported)";
    return Status::ok();
  }
  spec->decoder_desc += (spec->decoder_desc.empty() ? "" : ", ") + desc;
  spec->decoders.push_back(std::move(step));
  return Status::ok();
}

// One merge, "A B" or ["A", "B"], as ids. The library requires A, B and A+B in the vocabulary.
Status parse_merge(const element& m, size_t rank, const tok_detail::TokenIndex& ids, std::string* joined,
                   HfSpec::Merge* out) {
  std::string_view a, b, line;
  array pair;
  if (!m.get_string().get(line)) {
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos)
      return corrupt(fmt::format("model.merges[{}]", rank), fmt::format("{:?} is not 'A B'", line));
    a = line.substr(0, sp);
    b = line.substr(sp + 1);
  } else if (!m.get_array().get(pair) && pair.size() == 2 && !pair.at(0).get_string().get(a) &&
             !pair.at(1).get_string().get(b)) {
  } else {
    return corrupt(fmt::format("model.merges[{}]", rank), "neither 'A B' nor [\"A\", \"B\"]");
  }
  joined->assign(a).append(b);
  const int64_t ia = ids.find(a), ib = ids.find(b), im = ids.find(*joined);
  for (auto [id, name] : {std::pair{ia, a}, std::pair{ib, b}, std::pair{im, std::string_view(*joined)}})
    if (id < 0)
      return corrupt(fmt::format("model.merges[{}]", rank),
                     fmt::format("merge {:?} {:?} names {:?}, which is not in model.vocab", a, b, name));
  *out = HfSpec::Merge{static_cast<uint32_t>(ia), static_cast<uint32_t>(ib), static_cast<uint32_t>(im)};
  return Status::ok();
}

// model.vocab (token -> id) into spec->vocab, with every id checked against `id_limit` first.
Status parse_vocab(const object& model, uint64_t id_limit, HfSpec* spec, tok_detail::TokenIndex* ids) {
  element ve;
  object vocab;
  if (model.at_key("vocab").get(ve) || ve.get_object().get(vocab)) return corrupt("model.vocab", "not a JSON object");
  const size_t n = vocab.size();
  ids->reserve(n);
  std::vector<std::pair<std::string_view, uint32_t>> entries;
  entries.reserve(n);
  uint32_t max_id = 0;
  for (auto [key, value] : vocab) {
    uint64_t id = 0;
    int64_t sid = 0;
    if (value.get_uint64().get(id)) {
      if (!value.get_int64().get(sid))
        return corrupt("model.vocab", fmt::format("token {:?} has the negative id {}", key, sid));
      return corrupt("model.vocab", fmt::format("token {:?} has id {}, not a non-negative integer", key,
                                                simdjson::to_string(value)));
    }
    if (id >= id_limit)
      return corrupt("model.vocab",
                     fmt::format("token {:?} has id {}, beyond the {} tokens this file defines (vocabulary entries "
                                 "plus added tokens; ids must be numbered without large gaps)",
                                 key, id, id_limit));
    if (!ids->insert(key, static_cast<uint32_t>(id)))
      return corrupt("model.vocab", fmt::format("token {:?} appears twice", key));
    entries.emplace_back(key, static_cast<uint32_t>(id));
    max_id = std::max(max_id, static_cast<uint32_t>(id));
  }
  spec->vocab_entries = static_cast<uint32_t>(n);
  spec->vocab.assign(n ? max_id + 1 : 0, std::string());
  spec->in_vocab.assign(spec->vocab.size(), 0);
  for (const auto& [key, id] : entries) {
    if (spec->in_vocab[id])
      return corrupt("model.vocab", fmt::format("id {} is given to both {:?} and {:?}", id, spec->vocab[id], key));
    spec->vocab[id] = std::string(key);
    spec->in_vocab[id] = 1;
  }
  return Status::ok();
}

Status parse_model(const element& me, uint64_t id_limit, HfSpec* spec) {
  LONGCTX_ASSIGN_OR_RETURN(object model, get_object(me, "model"));
  LONGCTX_ASSIGN_OR_RETURN(std::string type, get_string(model, "type", "model", "BPE"));
  if (type != "BPE") return unsupported(fmt::format("model type {} (only BPE is implemented)", type));
  element dropout;
  double p = 0;
  if (!model.at_key("dropout").get(dropout) && !dropout.is_null() && (dropout.get_double().get(p) || p != 0.0))
    return unsupported("BPE dropout");
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    LONGCTX_ASSIGN_OR_RETURN(std::string v, get_string(model, k, "model", ""));
    if (!v.empty()) return unsupported(k);
  }
  LONGCTX_ASSIGN_OR_RETURN(spec->byte_fallback, get_bool(model, "byte_fallback", "model", false));
  LONGCTX_ASSIGN_OR_RETURN(spec->fuse_unk, get_bool(model, "fuse_unk", "model", false));
  LONGCTX_ASSIGN_OR_RETURN(spec->ignore_merges, get_bool(model, "ignore_merges", "model", false));
  tok_detail::TokenIndex ids;  // over the strings of the parsed document
  LONGCTX_RETURN_IF_ERROR(parse_vocab(model, id_limit, spec, &ids));
  if (has(model, "unk_token")) {
    LONGCTX_ASSIGN_OR_RETURN(std::string unk, get_string(model, "unk_token", "model"));
    spec->unk_id = ids.find(unk);
    if (spec->unk_id < 0) return corrupt("model.unk_token", fmt::format("{:?} is not in model.vocab", unk));
  }
  element merges_e;
  array merges;
  if (model.at_key("merges").get(merges_e) || merges_e.get_array().get(merges))
    return corrupt("model.merges", "not a JSON array");
  spec->merges.reserve(merges.size());
  size_t rank = 0;
  std::string joined;
  for (element m : merges) {
    HfSpec::Merge mg;
    LONGCTX_RETURN_IF_ERROR(parse_merge(m, rank++, ids, &joined, &mg));
    spec->merges.push_back(mg);
  }
  spec->model_desc = fmt::format("BPE, {} tokens, {} merges{}{}{}{}", spec->vocab_entries, spec->merges.size(),
                                 spec->byte_fallback ? ", byte_fallback" : "", spec->fuse_unk ? ", fuse_unk" : "",
                                 spec->ignore_merges ? ", ignore_merges" : "",
                                 spec->unk_id >= 0 ? fmt::format(", unk {:?}", spec->vocab[spec->unk_id]) : "");
  return Status::ok();
}

// added_tokens, with ids assigned as the library does on load (one add_tokens call): a content that
// is a model token keeps its id, an already added content keeps its id, any other gets the next id
// from the model vocabulary's size on. The ids written in the file are checked but not used.
Status parse_added(const array& added, HfSpec* spec) {
  std::unordered_map<std::string, size_t> index;  // content -> position in spec->added
  tok_detail::TokenIndex vocab_ids;
  vocab_ids.reserve(spec->vocab_entries);
  for (uint32_t id = 0; id < spec->vocab.size(); ++id)
    if (spec->in_vocab[id]) vocab_ids.insert(spec->vocab[id], id);
  uint64_t next_id = spec->vocab_entries;
  size_t i = 0;
  for (element e : added) {
    std::string where = fmt::format("added_tokens[{}]", i++);
    LONGCTX_ASSIGN_OR_RETURN(object o, get_object(e, where));
    HfAddedToken t;
    LONGCTX_ASSIGN_OR_RETURN(t.content, get_string(o, "content", where));
    element ide;
    uint64_t file_id = 0;
    if (o.at_key("id").get(ide) || ide.get_uint64().get(file_id) || file_id > UINT32_MAX)
      return corrupt(where, "'id' is not an integer in 0..4294967295");
    LONGCTX_ASSIGN_OR_RETURN(t.special, get_bool(o, "special", where, false));
    LONGCTX_ASSIGN_OR_RETURN(t.normalized, get_bool(o, "normalized", where, !t.special));
    for (const char* k : {"lstrip", "rstrip", "single_word"}) {
      LONGCTX_ASSIGN_OR_RETURN(bool v, get_bool(o, k, where, false));
      if (v) return unsupported(fmt::format("{} ({:?}) sets {}", where, t.content, k));
    }
    if (t.content.empty()) continue;
    auto seen = index.find(t.content);
    if (seen != index.end()) {  // same content again: the later properties win, the id stays
      t.id = spec->added[seen->second].id;
      spec->added[seen->second] = std::move(t);
      continue;
    }
    const int64_t v = vocab_ids.find(t.content);
    t.id = v >= 0 ? static_cast<uint32_t>(v) : static_cast<uint32_t>(next_id++);
    index.emplace(t.content, spec->added.size());
    spec->added.push_back(std::move(t));
  }
  return Status::ok();
}

}  // namespace

Result<HfSpec> parse_hf_tokenizer_json(std::string_view json) {
  simdjson::dom::parser parser;
  element doc;
  simdjson::padded_string padded(json);
  if (auto err = parser.parse(padded).get(doc)) return corrupt("tokenizer.json", simdjson::error_message(err));
  LONGCTX_ASSIGN_OR_RETURN(object root, get_object(doc, "tokenizer.json"));
  HfSpec spec;
  element added_e, model_e, e;
  array added;
  const bool has_added = !root.at_key("added_tokens").get(added_e) && !added_e.is_null();
  if (has_added && added_e.get_array().get(added)) return corrupt("added_tokens", "not a JSON array");
  if (root.at_key("model").get(model_e)) return corrupt("tokenizer.json", "no 'model'");
  uint64_t id_limit = has_added ? added.size() : 0;
  {
    object m, v;
    element ve;
    if (!model_e.get_object().get(m) && !m.at_key("vocab").get(ve) && !ve.get_object().get(v)) id_limit += v.size();
  }
  LONGCTX_RETURN_IF_ERROR(parse_model(model_e, id_limit, &spec));
  if (!root.at_key("normalizer").get(e)) LONGCTX_RETURN_IF_ERROR(parse_normalizer(e, "normalizer", &spec, 0));
  if (!root.at_key("pre_tokenizer").get(e)) LONGCTX_RETURN_IF_ERROR(parse_pre_tokenizer(e, "pre_tokenizer", &spec, 0));
  if (!root.at_key("decoder").get(e) && !e.is_null()) {
    spec.has_decoder = true;
    LONGCTX_RETURN_IF_ERROR(parse_decoder(e, "decoder", &spec, 0));
  }
  if (has_added) LONGCTX_RETURN_IF_ERROR(parse_added(added, &spec));
  if (spec.normalizer_desc.empty()) spec.normalizer_desc = "none";
  if (spec.pre_tokenizer_desc.empty()) spec.pre_tokenizer_desc = "none";
  if (!spec.has_decoder) spec.decoder_desc = "none (token strings joined with spaces)";
  return spec;
}

}  // namespace longctx
