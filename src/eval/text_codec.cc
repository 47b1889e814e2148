#include "eval/text_codec.h"

#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

namespace longctx::eval {
namespace {

// Strips leading ASCII whitespace and the word-boundary markers of SentencePiece ("\u2581") and
// byte-level BPE ("\u0120", "\u010A"): what is left is the token's visible text.
std::string_view visible(std::string_view p) {
  for (;;) {
    if (!p.empty() && (p[0] == ' ' || p[0] == '\n' || p[0] == '\t' || p[0] == '\r')) p.remove_prefix(1);
    else if (p.starts_with("\xE2\x96\x81")) p.remove_prefix(3);
    else if (p.starts_with("\xC4\xA0") || p.starts_with("\xC4\x8A")) p.remove_prefix(2);
    else return p;
  }
}

class TokenizerCodec : public TextCodec {
 public:
  explicit TokenizerCodec(std::shared_ptr<const Tokenizer> tok) : tok_(std::move(tok)) {
    period_.assign(tok_->vocab_size(), false);
    for (uint32_t id = 0; id < tok_->vocab_size(); ++id) period_[id] = visible(tok_->piece(id)) == ".";
  }
  Status encode(std::string_view text, std::vector<int32_t>* ids) const override {
    std::vector<uint32_t> u;
    LONGCTX_RETURN_IF_ERROR(tok_->encode(text, &u));
    for (uint32_t v : u) ids->push_back(static_cast<int32_t>(v));
    return Status::ok();
  }
  Result<std::string> decode(std::span<const int32_t> ids) const override {
    std::vector<uint32_t> u;
    u.reserve(ids.size());
    for (int32_t v : ids) {
      if (v < 0) return make_error(ErrorCode::kInvalidArgument, "token id {} is negative", v);
      u.push_back(static_cast<uint32_t>(v));
    }
    return tok_->decode(u, /*skip_special=*/true);
  }
  bool is_period(int32_t id) const override {
    return id >= 0 && static_cast<size_t>(id) < period_.size() && period_[static_cast<size_t>(id)];
  }
  int32_t bos_id() const override { return tok_->bos_id(); }
  int32_t eos_id() const override { return tok_->eos_id(); }
  bool exact() const override { return true; }
  std::string describe() const override {
    return fmt::format("{} ({} tokens)", tok_->impl_name(), tok_->vocab_size());
  }

 private:
  std::shared_ptr<const Tokenizer> tok_;
  std::vector<bool> period_;
};

bool word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
bool space_byte(unsigned char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

class WordCodec : public TextCodec {
 public:
  Status encode(std::string_view text, std::vector<int32_t>* ids) const override {
    std::lock_guard<std::mutex> lock(mu_);
    size_t i = 0;
    while (i < text.size()) {
      size_t s = i;
      while (i < text.size() && space_byte(static_cast<unsigned char>(text[i]))) ++i;
      if (i < text.size()) {
        if (word_byte(static_cast<unsigned char>(text[i]))) {
          while (i < text.size() && word_byte(static_cast<unsigned char>(text[i]))) ++i;
        } else {
          ++i;
        }
      }
      ids->push_back(intern(text.substr(s, i - s)));
    }
    return Status::ok();
  }
  Result<std::string> decode(std::span<const int32_t> ids) const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (int32_t id : ids) {
      if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) {
        return make_error(ErrorCode::kInvalidArgument, "word id {} was never assigned", id);
      }
      out += pieces_[static_cast<size_t>(id)];
    }
    return out;
  }
  bool is_period(int32_t id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return id >= 0 && static_cast<size_t>(id) < pieces_.size() && visible(pieces_[static_cast<size_t>(id)]) == ".";
  }
  int32_t bos_id() const override { return -1; }
  int32_t eos_id() const override { return -1; }
  bool exact() const override { return false; }
  std::string describe() const override { return "approximate (words and punctuation marks as tokens)"; }

 private:
  int32_t intern(std::string_view piece) const {
    auto it = ids_.find(std::string(piece));
    if (it != ids_.end()) return it->second;
    int32_t id = static_cast<int32_t>(pieces_.size());
    pieces_.emplace_back(piece);
    ids_.emplace(std::string(piece), id);
    return id;
  }
  mutable std::mutex mu_;
  mutable std::vector<std::string> pieces_;
  mutable std::unordered_map<std::string, int32_t> ids_;
};

}  // namespace

std::unique_ptr<TextCodec> tokenizer_codec(std::shared_ptr<const Tokenizer> tok) {
  return std::make_unique<TokenizerCodec>(std::move(tok));
}
std::unique_ptr<TextCodec> word_codec() { return std::make_unique<WordCodec>(); }

}  // namespace longctx::eval
