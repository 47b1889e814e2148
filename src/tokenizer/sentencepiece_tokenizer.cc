// Adapter over the SentencePiece library (libsentencepiece from Debian).
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <regex>

#include "core/file_io.h"
#include "core/hash.h"
#include "tokenizer/fast_spm_bpe.h"
#include "tokenizer/hf_bpe.h"
#include "tokenizer/spm_decoder.h"
#include "tokenizer/spm_model_proto.h"
#include "tokenizer/tokenizer.h"

namespace longctx {
namespace {

// The model file's pipeline for `longctx tokenizer info`.
TokenizerInfo spm_info(const SpmModelProto& m) {
  static const char* kType[] = {"?", "unigram", "BPE", "word", "char"};
  const int type = static_cast<int>(m.model_type);
  TokenizerInfo info;
  info.format = "SentencePiece model";
  info.model = fmt::format("{}, {} pieces{}", type >= 1 && type <= 4 ? kType[type] : "?", m.pieces.size(),
                           m.byte_fallback ? ", byte_fallback" : "");
  info.normalizer = fmt::format("{}{}{}{}", m.normalizer_name.empty() ? "identity" : m.normalizer_name,
                                m.add_dummy_prefix ? ", add_dummy_prefix" : "",
                                m.remove_extra_whitespaces ? ", remove_extra_whitespaces" : "",
                                m.escape_whitespaces ? ", spaces as U+2581" : "");
  info.pre_tokenizer = "none (SentencePiece merges across the whole normalised text)";
  info.decoder = m.has_denormalizer ? "SentencePiece Decode with a denormalizer" : "SentencePiece Decode";
  for (uint32_t i = 0; i < m.pieces.size(); ++i)
    if (m.pieces[i].type == SpmPieceType::kControl || m.pieces[i].type == SpmPieceType::kUnknown)
      info.special_tokens.emplace_back(m.pieces[i].piece, i);
  return info;
}

class SentencePieceTokenizer : public Tokenizer {
 public:
  // `proto` (when it parsed) gives the native decoder and the info; the library does the rest.
  static Result<std::unique_ptr<SentencePieceTokenizer>> load(const std::string& path, std::string_view bytes,
                                                               const SpmModelProto* proto, std::string note = {}) {
    auto t = std::make_unique<SentencePieceTokenizer>();
    t->note_ = std::move(note);
    auto st = t->sp_.LoadFromSerializedProto(bytes);
    if (!st.ok())
      return make_error(ErrorCode::kCorrupt, "'{}': not a SentencePiece model: {}", path, st.ToString());
    t->checksum_ = xxh64(bytes);
    if (proto) {
      t->info_ = spm_info(*proto);
      auto dec = SpmDecoder::make(*proto);
      if (dec.is_ok()) t->decoder_ = std::move(dec).value();
    } else {
      t->info_.format = "SentencePiece model";
      t->info_.model = fmt::format("{} pieces", t->sp_.GetPieceSize());
    }
    return t;
  }
  Status encode(std::string_view text, std::vector<uint32_t>* ids) const override {
    std::vector<int> tmp;
    auto st = sp_.Encode(absl_view(text), &tmp);
    if (!st.ok()) return make_error(ErrorCode::kInternal, "SentencePiece encode failed: {}", st.ToString());
    ids->insert(ids->end(), tmp.begin(), tmp.end());
    return Status::ok();
  }
  // Native (spm_decoder.h) when the model allows; the library otherwise, which always hides control
  // pieces.
  Result<std::string> decode(std::span<const uint32_t> ids, bool skip_special) const override {
    if (decoder_) return decoder_->decode(ids, skip_special);
    std::vector<int> tmp(ids.begin(), ids.end());
    for (int id : tmp)
      if (id < 0 || id >= sp_.GetPieceSize())
        return make_error(ErrorCode::kInvalidArgument, "token id {} is outside the vocabulary (size {})", id,
                          sp_.GetPieceSize());
    std::string out;
    auto st = sp_.Decode(tmp, &out);
    if (!st.ok()) return make_error(ErrorCode::kInternal, "SentencePiece decode failed: {}", st.ToString());
    return out;
  }
  // The library's Decode, for tests and benchmarks.
  Result<std::string> library_decode(std::span<const uint32_t> ids) const {
    std::vector<int> tmp(ids.begin(), ids.end());
    std::string out;
    auto st = sp_.Decode(tmp, &out);
    if (!st.ok()) return make_error(ErrorCode::kInternal, "SentencePiece decode failed: {}", st.ToString());
    return out;
  }
  uint32_t vocab_size() const override { return static_cast<uint32_t>(sp_.GetPieceSize()); }
  int32_t bos_id() const override { return sp_.bos_id(); }
  int32_t eos_id() const override { return sp_.eos_id(); }
  int32_t unk_id() const override { return sp_.unk_id(); }
  int32_t pad_id() const override { return sp_.pad_id(); }
  std::string piece(uint32_t id) const override {
    return id < vocab_size() ? sp_.IdToPiece(static_cast<int>(id)) : std::string();
  }
  std::string impl_name() const override { return "sentencepiece"; }
  std::string impl_note() const override { return note_; }
  uint64_t model_checksum() const override { return checksum_; }
  TokenizerInfo info() const override { return info_; }

 private:
  std::string note_;
  // sentencepiece 0.1.97 takes absl::string_view, which is std::string_view-compatible.
  static std::string_view absl_view(std::string_view s) { return s; }
  sentencepiece::SentencePieceProcessor sp_;
  std::unique_ptr<SpmDecoder> decoder_;
  TokenizerInfo info_;
  uint64_t checksum_ = 0;
};

// The fast exact encoder for encode(); the vocabulary queries go to the library, which is loaded
// from the same bytes; decode is native (spm_decoder.h).
class FastSpmTokenizer : public Tokenizer {
 public:
  FastSpmTokenizer(std::unique_ptr<FastSpmBpe> fast, std::unique_ptr<SentencePieceTokenizer> lib)
      : fast_(std::move(fast)), lib_(std::move(lib)) {}
  Status encode(std::string_view text, std::vector<uint32_t>* ids) const override {
    fast_->encode(text, ids);
    return Status::ok();
  }
  Result<std::string> decode(std::span<const uint32_t> ids, bool skip_special) const override {
    return lib_->decode(ids, skip_special);
  }
  uint32_t vocab_size() const override { return lib_->vocab_size(); }
  int32_t bos_id() const override { return lib_->bos_id(); }
  int32_t eos_id() const override { return lib_->eos_id(); }
  int32_t unk_id() const override { return lib_->unk_id(); }
  int32_t pad_id() const override { return lib_->pad_id(); }
  std::string piece(uint32_t id) const override { return lib_->piece(id); }
  std::string impl_name() const override { return "fast-bpe"; }
  uint64_t model_checksum() const override { return lib_->model_checksum(); }
  TokenizerInfo info() const override { return lib_->info(); }

 private:
  std::unique_ptr<FastSpmBpe> fast_;
  std::unique_ptr<SentencePieceTokenizer> lib_;
};

// The SentencePiece trainer's failures, said in our words: what went wrong and what to change.
// The library's messages (libsentencepiece 0.1.97, e.g. "Internal: ./src/trainer_interface.cc(660)
// [(a) == (b)] Vocabulary size too high (300). Please set it to a value <= 275.") are matched by
// their fixed text; the library's sentence, without its source location, follows ours. Anything
// unrecognised is passed on as it is.
std::string explain_training_error(const std::string& lib, const TokenizerTrainConfig& cfg) {
  const std::string said = std::regex_replace(lib, std::regex(R"(^[A-Za-z ]+: \S+\(\d+\) \[.*?\] ?)"), "");
  std::smatch m;
  std::string why;
  if (std::regex_search(lib, m, std::regex(R"(Vocabulary size too high \((\d+)\).*<= (\d+))"))) {
    why = fmt::format("the training text is too small for {} pieces: only {} can be learned from it. Lower "
                      "--vocab-size to at most {}, or train on more text (--max-bytes, more input files)",
                      m[1].str(), m[2].str(), m[2].str());
  } else if (std::regex_search(lib, m, std::regex(R"(smaller than required_chars\. (\d+) vs (\d+))"))) {
    why = fmt::format("--vocab-size {} is too small for this text: it needs at least {} pieces, one per distinct "
                      "character plus the 256 byte pieces and the special pieces. Raise --vocab-size to {} or more",
                      m[1].str(), m[2].str(), m[2].str());
  } else if (lib.find("!sentences_.empty()") != std::string::npos) {
    why = fmt::format("there is no training text: every line was empty or longer than {} bytes", cfg.max_sentence_length);
  } else if (lib.find("Not found") != std::string::npos || lib.find("No such file") != std::string::npos) {
    why = "an input file could not be opened (moved or deleted while training?)";
  } else {
    return fmt::format("SentencePiece training failed: {}", lib);
  }
  if (said.empty()) return fmt::format("tokenizer training failed: {}", why);
  return fmt::format("tokenizer training failed: {} (SentencePiece: {})", why, said);
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<TokenizerImpl> parse_tokenizer_impl(const std::string& name) {
  if (name == "auto" || name.empty()) return TokenizerImpl::kAuto;
  if (name == "spm" || name == "sentencepiece") return TokenizerImpl::kSentencePiece;
  if (name == "fast" || name == "fast-bpe") return TokenizerImpl::kFast;
  if (name == "hf" || name == "hf-bpe") return TokenizerImpl::kHfBpe;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown tokenizer implementation '{}' (expected auto, spm, fast or hf)", name);
}

Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path, TokenizerImpl impl) {
  std::string p = path;
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) {
    if (file_exists(p + "/tokenizer.model")) {
      p += "/tokenizer.model";
    } else if (file_exists(p + "/tokenizer.json")) {
      p += "/tokenizer.json";
    } else {
      return make_error(ErrorCode::kNotFound, "'{}' is a folder without tokenizer.model or tokenizer.json", path);
    }
  }
  if (!file_exists(p)) return make_error(ErrorCode::kNotFound, "tokenizer model '{}' not found", p);
  if (ends_with(p, ".json")) {
    if (impl == TokenizerImpl::kSentencePiece || impl == TokenizerImpl::kFast)
      return make_error(ErrorCode::kInvalidArgument,
                        "'{}' is a Hugging Face tokenizer.json; implementations spm and fast need a SentencePiece "
                        "model",
                        p);
    return load_hf_bpe_tokenizer(p);
  }
  if (impl == TokenizerImpl::kHfBpe)
    return make_error(ErrorCode::kInvalidArgument, "implementation hf needs a tokenizer.json, got '{}'", p);
  LONGCTX_ASSIGN_OR_RETURN(std::string bytes, read_file(p));
  auto proto = parse_spm_model_proto(bytes);
  const SpmModelProto* parsed = proto.is_ok() ? &proto.value() : nullptr;
  if (impl == TokenizerImpl::kSentencePiece) {
    LONGCTX_ASSIGN_OR_RETURN(auto lib, SentencePieceTokenizer::load(p, bytes, parsed));
    return std::unique_ptr<Tokenizer>(std::move(lib));
  }
  Status why;
  std::unique_ptr<FastSpmBpe> fast;
  if (!parsed) {
    why = proto.status().with_context(p);
  } else {
    auto compiled = FastSpmBpe::compile(*parsed);
    if (compiled.is_ok()) {
      fast = std::move(compiled).value();
    } else {
      why = compiled.status().with_context(p);
    }
  }
  if (!fast && impl == TokenizerImpl::kFast) return why;
  LONGCTX_ASSIGN_OR_RETURN(auto lib, SentencePieceTokenizer::load(p, bytes, parsed, fast ? "" : why.message()));
  if (!fast) return std::unique_ptr<Tokenizer>(std::move(lib));
  return std::unique_ptr<Tokenizer>(std::make_unique<FastSpmTokenizer>(std::move(fast), std::move(lib)));
}

Status train_sentencepiece_bpe(const TokenizerTrainConfig& cfg) {
  if (cfg.input_files.empty()) return make_error(ErrorCode::kInvalidArgument, "tokenizer training needs input files");
  std::string inputs;
  for (const auto& f : cfg.input_files) inputs += (inputs.empty() ? "" : ",") + f;
  std::string args = fmt::format(
      "--input={} --model_prefix={} --model_type=bpe --vocab_size={} --byte_fallback=true "
      "--split_digits=true --allow_whitespace_only_pieces=true --remove_extra_whitespaces=false "
      "--normalization_rule_name=identity --character_coverage={} --input_sentence_size={} "
      "--shuffle_input_sentence=true --max_sentence_length={} --num_threads={} "
      "--unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --minloglevel=2",
      inputs, cfg.model_prefix, cfg.vocab_size, cfg.character_coverage, cfg.input_sentence_size,
      cfg.max_sentence_length, cfg.num_threads);
  // libsentencepiece 0.1.97 has no --random_seed flag; the seed is process-wide.
  sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(cfg.seed));
  auto st = sentencepiece::SentencePieceTrainer::Train(args);
  if (!st.ok()) return Status(ErrorCode::kInvalidArgument, explain_training_error(st.ToString(), cfg));
  return Status::ok();
}

}  // namespace longctx
