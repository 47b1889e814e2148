// longctx tokenizer train | encode | decode | info
#include "cli/cmd_tokenizer.h"

#include <algorithm>
#include <thread>
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/file_io.h"
#include "core/hash.h"
#include "core/units.h"
#include "core/validate.h"
#include "corpus/training_text.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {
namespace {

// Vocabulary sizes `tokenizer train` accepts: room for the special pieces, up to 2^24 (well above
// the largest LLaMA-family vocabularies).
inline constexpr uint32_t kMinVocab = 16, kMaxVocab = 1u << 24;
inline constexpr uint64_t kMaxTrainingText = 1000000000000ull;  // 1 TB

void print_skipped(const BadRecordStats& bad) {
  if (bad.total() == 0) return;
  fmt::print(stderr, "skipped {} bad records while collecting training text:", bad.total());
  for (int i = 0; i < static_cast<int>(BadRecord::kCount); ++i)
    if (bad.counts[i]) fmt::print(stderr, " {} {}", bad_record_name(static_cast<BadRecord>(i)), bad.counts[i]);
  fmt::print(stderr, "\n");
  for (const auto& e : bad.examples) fmt::print(stderr, "  e.g. {}: {}\n", e.where, e.detail);
}

}  // namespace

Status TokenizerTrainOptions::validate() const {
  LONGCTX_RETURN_IF_ERROR(check_range("--vocab-size", vocab, kMinVocab, kMaxVocab));
  LONGCTX_ASSIGN_OR_RETURN(uint64_t max, parse_byte_size(max_bytes));
  LONGCTX_RETURN_IF_ERROR(check_range("--max-bytes", max, uint64_t{1}, kMaxTrainingText));
  LONGCTX_RETURN_IF_ERROR(check_range("--per-doc-bytes", per_doc_bytes, 1u, UINT32_MAX));
  return check_range("--threads", threads, 0, kMaxThreads);
}

// The files `tokenizer train` writes: PREFIX.model and PREFIX.vocab, and while it runs
// PREFIX.train.txt (the training text) and PREFIX.tmp.model / .tmp.vocab (the trainer's output
// before the rename). The temporary names must not hold anything but our own leftovers.
Status check_train_outputs(const std::string& prefix, bool overwrite) {
  LONGCTX_RETURN_IF_ERROR(check_outputs({{prefix + ".model", &kinds::kTokenizerModel, "--out"},
                                         {prefix + ".vocab", &kinds::kTokenizerVocab, "--out"}}, overwrite));
  for (const std::string& tmp : {prefix + ".train.txt", prefix + ".tmp.model", prefix + ".tmp.vocab"}) {
    const PathType t = path_type(tmp);
    if (t == PathType::kMissing) continue;
    if (t != PathType::kRegular || (!overwrite && tmp == prefix + ".train.txt"))
      return make_error(ErrorCode::kInvalidArgument,
                        "'{}' exists ({}): tokenizer train writes its temporary files there; remove it, pass --overwrite "
                        "(a regular file left by an interrupted run), or choose another --out", tmp, path_type_name(t));
  }
  return Status::ok();
}

Status run_tokenizer_train(const TokenizerTrainOptions& o) {
  TrainingTextConfig tt;
  tt.corpus.inputs = o.inputs;
  tt.corpus.text_field = o.text_field;
  LONGCTX_ASSIGN_OR_RETURN(tt.max_bytes, parse_byte_size(o.max_bytes));
  tt.per_doc_bytes = o.per_doc_bytes;
  const std::string& out = o.out;
  const std::string prefix = out.size() > 6 && out.compare(out.size() - 6, 6, ".model") == 0 ? out.substr(0, out.size() - 6) : out;
  LONGCTX_RETURN_IF_ERROR(check_train_outputs(prefix, o.overwrite));
  const std::string text_path = prefix + ".train.txt";
  auto text = write_training_text(tt, text_path);
  if (!text.is_ok()) {
    (void)remove_file_if_exists(text_path);
    return text.status();
  }
  print_skipped(text->bad);
  if (!global_quiet()) fmt::print(stderr, "training a {}-piece BPE model on {} of text...\n", o.vocab, format_bytes(static_cast<double>(text->bytes)));
  TokenizerTrainConfig tc;
  tc.input_files = {text_path};
  tc.model_prefix = prefix + ".tmp";
  tc.vocab_size = o.vocab;
  tc.num_threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // The SentencePiece trainer logs its whole command line to stderr; the terminal is kept for our
  // own messages unless --verbose.
  Status st = o.verbose ? train_sentencepiece_bpe(tc) : with_quiet_stderr([&] { return train_sentencepiece_bpe(tc); });
  (void)remove_file_if_exists(text_path);
  if (st.is_ok()) st = rename_file(prefix + ".tmp.vocab", prefix + ".vocab");
  if (st.is_ok()) st = rename_file(prefix + ".tmp.model", prefix + ".model");
  LONGCTX_RETURN_IF_ERROR(st);
  auto tok = load_tokenizer(prefix + ".model");
  fmt::print("wrote {} ({} pieces, checksum {})\n", prefix + ".model", o.vocab,
             tok.is_ok() ? hex64((*tok)->model_checksum()) : std::string("?"));
  return Status::ok();
}

Status run_tokenizer_encode(const TokenizerEncodeOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(auto tok, load_tokenizer(o.tokenizer));
  std::string input = o.text;
  if (!o.file.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(input, read_file(o.file));
  }
  std::vector<uint32_t> ids;
  if (o.bos && tok->bos_id() >= 0) ids.push_back(static_cast<uint32_t>(tok->bos_id()));
  LONGCTX_RETURN_IF_ERROR(tok->encode(input, &ids));
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    out += o.pieces ? fmt::format("{}:{}", ids[i], tok->piece(ids[i])) : std::to_string(ids[i]);
  }
  fmt::print("{}\n", out);
  if (!global_quiet()) fmt::print(stderr, "{} tokens, {} bytes\n", ids.size(), input.size());
  return Status::ok();
}

Status TokenizerDecodeOptions::validate() const { return parse_token_ids("--ids", ids, UINT32_MAX, true).status(); }

Status run_tokenizer_decode(const TokenizerDecodeOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(auto tok, load_tokenizer(o.tokenizer));
  LONGCTX_ASSIGN_OR_RETURN(std::vector<uint32_t> ids, parse_token_ids("--ids", o.ids, UINT32_MAX, true));
  LONGCTX_ASSIGN_OR_RETURN(std::string text, tok->decode(ids, o.skip_special));
  fmt::print("{}\n", text);
  return Status::ok();
}

namespace {

// Why this encoder serves the file (docs/tokenizer.md).
std::string encoder_description(const Tokenizer& t) {
  const std::string impl = t.impl_name();
  if (impl == "fast-bpe") return "fast-bpe: our exact SentencePiece BPE encoder (the library's ids, 25-50x faster)";
  if (impl == "hf-bpe") return "hf-bpe: our exact tokenizer.json encoder (the Hugging Face library's ids, 12-80x faster)";
  std::string why = t.impl_note().empty() ? "asked for with --tokenizer-impl spm" : t.impl_note();
  return "sentencepiece: the SentencePiece library (" + why + ")";
}

std::string id_text(const Tokenizer& t, int32_t id) {
  return id < 0 ? std::string("none") : fmt::format("{} {:?}", id, t.piece(static_cast<uint32_t>(id)));
}

}  // namespace

Status run_tokenizer_info(const TokenizerInfoOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(auto tok, load_tokenizer(o.tokenizer));
  const TokenizerInfo info = tok->info();
  fmt::print("{}: {}\n", o.tokenizer, info.format);
  fmt::print("  model:          {}\n", info.model);
  fmt::print("  vocabulary:     {} ids\n", tok->vocab_size());
  fmt::print("  special ids:    bos {}, eos {}, unk {}, pad {}\n", id_text(*tok, tok->bos_id()), id_text(*tok, tok->eos_id()),
             id_text(*tok, tok->unk_id()), id_text(*tok, tok->pad_id()));
  std::string specials;
  const size_t shown = std::min<size_t>(info.special_tokens.size(), 24);
  for (size_t i = 0; i < shown; ++i)
    specials += fmt::format("{}{:?}={}", i ? " " : "", info.special_tokens[i].first, info.special_tokens[i].second);
  if (info.special_tokens.size() > shown) specials += fmt::format(" ... and {} more", info.special_tokens.size() - shown);
  fmt::print("  special tokens: {}\n", specials.empty() ? "none" : specials);
  fmt::print("  normalizer:     {}\n", info.normalizer);
  fmt::print("  pre-tokenizer:  {}\n", info.pre_tokenizer);
  fmt::print("  decoder:        {}\n", info.decoder);
  fmt::print("  encoder:        {}\n", encoder_description(*tok));
  fmt::print("  checksum:       xxh64 {}\n", hex64(tok->model_checksum()));
  return Status::ok();
}

constexpr const char* kTokenizerHelp =
    "Tokenizer: a SentencePiece .model, a Hugging Face tokenizer.json, or a model folder holding one";

void register_tokenizer_commands(CLI::App& app) {
  auto* t = app.add_subcommand("tokenizer",
                               "Train, inspect and use tokenizers (SentencePiece .model files, Hugging Face tokenizer.json)");
  t->require_subcommand(1);
  set_examples(t, {"longctx tokenizer train data/sample/train --vocab-size 8000 --out data/tokenizer.model",
                   "longctx tokenizer encode --tokenizer data/tokenizer.model --text 'Hello world 2024'",
                   "longctx tokenizer info llama-2-7b-hf/"});
  {
    auto o = std::make_shared<TokenizerTrainOptions>();
    auto* c = t->add_subcommand("train", "Train a SentencePiece BPE tokenizer (byte fallback, split digits) on a corpus");
    c->add_option("inputs", o->inputs, "Corpus files, directories or globs")->required();
    c->add_option("--out", o->out, "Output model file (a .vocab file is written beside it)")->capture_default_str();
    add_number(c, "--vocab-size", o->vocab, "Vocabulary size");
    c->add_option("--max-bytes", o->max_bytes, "Text used for training")->capture_default_str();
    add_number(c, "--per-doc-bytes", o->per_doc_bytes, "At most this much text from each document");
    c->add_option("--text-field", o->text_field, "JSON field holding the text")->capture_default_str();
    add_number(c, "--threads", o->threads, "Trainer threads (0 = all cores)");
    c->add_flag("--verbose", o->verbose, "Show the SentencePiece trainer's log");
    c->add_flag("--overwrite", o->overwrite, "Replace an existing SentencePiece model and vocabulary at --out");
    set_examples(c, {"longctx tokenizer train data/sample/train --vocab-size 8000 --out data/tokenizer.model"});
    set_run(c, o, run_tokenizer_train);
  }
  {
    auto o = std::make_shared<TokenizerEncodeOptions>();
    auto* c = t->add_subcommand("encode", "Print the token ids of a text");
    c->add_option("--tokenizer", o->tokenizer, kTokenizerHelp)->required();
    c->add_option("--text", o->text, "Text to encode");
    c->add_option("--file", o->file, "Encode the contents of this file instead");
    c->add_flag("--pieces", o->pieces, "Print id:piece pairs");
    c->add_flag("--bos", o->bos, "Prepend the BOS id");
    set_examples(c, {"longctx tokenizer encode --tokenizer data/tokenizer.model --text 'Hello world 2024'",
                     "longctx tokenizer encode --tokenizer llama-2-7b-hf/ --pieces --text 'Long context'"});
    set_run(c, o, run_tokenizer_encode);
  }
  {
    auto o = std::make_shared<TokenizerDecodeOptions>();
    auto* c = t->add_subcommand("decode", "Print the text of token ids (as the tokenizer's own library decodes them)");
    c->add_option("--tokenizer", o->tokenizer, kTokenizerHelp)->required();
    c->add_option("--ids", o->ids, "Comma- or space-separated token ids")->required();
    c->add_flag("--skip-special", o->skip_special, "Drop special tokens (<s>, </s>, added special tokens) instead of printing them");
    set_examples(c, {"longctx tokenizer decode --tokenizer data/tokenizer.model --ids 1,15043,3186",
                     "longctx tokenizer decode --tokenizer gemma-3/tokenizer.json --ids 2,9259,1902 --skip-special"});
    set_run(c, o, run_tokenizer_decode);
  }
  {
    auto o = std::make_shared<TokenizerInfoOptions>();
    auto* c = t->add_subcommand("info", "Show a tokenizer: kind, vocabulary size, special ids, normaliser, pre-tokenizer, "
                                        "decoder, and which encoder runs it and why");
    c->add_option("tokenizer", o->tokenizer, kTokenizerHelp)->required();
    set_examples(c, {"longctx tokenizer info data/tokenizer.model", "longctx tokenizer info llama-2-7b-hf/"});
    set_run(c, o, run_tokenizer_info);
  }
}

}  // namespace longctx::cli
