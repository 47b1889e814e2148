// longctx tokenizer train | encode | decode
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "core/file_io.h"
#include "core/hash.h"
#include "core/units.h"
#include "core/utf8.h"
#include "corpus/corpus_reader.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {
namespace {

struct TrainOpts {
  std::vector<std::string> inputs;
  std::string out = "tokenizer.model";
  uint32_t vocab = 8000;
  std::string max_bytes = "40MB";
  uint32_t per_doc_bytes = 32768;
  int threads = 0;
  std::string text_field = "text";
  bool verbose = false;
};

// Writes training sentences (lines of documents) to a text file. Files are read one at a time,
// each contributing at most an equal share of `max` bytes (so every shard and domain is
// represented), and every document at most `per_doc` bytes (so a few huge books do not dominate).
Status write_training_text(const TrainOpts& o, uint64_t max, const std::string& path, uint64_t* written,
                           BadRecordStats* bad) {
  CorpusConfig cc;
  cc.inputs = o.inputs;
  cc.text_field = o.text_field;
  cc.skip_bad_records = true;
  LONGCTX_ASSIGN_OR_RETURN(CorpusFiles files, list_corpus_files(cc));
  LONGCTX_ASSIGN_OR_RETURN(FileWriter w, FileWriter::open(path, "wb"));
  *written = 0;
  const uint64_t per_file = std::max<uint64_t>(max / files.paths.size(), 4096);
  Document d;
  for (uint32_t i = 0; i < files.paths.size() && *written < max; ++i) {
    CorpusFileReader reader(cc, files, i, bad);
    uint64_t from_file = 0;
    while (from_file < per_file && *written < max) {
      auto got = reader.next(&d);
      if (!got.is_ok()) return got.status();
      if (!*got) break;
      std::string_view t = utf8_prefix(d.text, o.per_doc_bytes);
      size_t cut = t.rfind('\n');
      if (cut != std::string_view::npos && t.size() < d.text.size()) t = t.substr(0, cut);
      LONGCTX_RETURN_IF_ERROR(w.write(t));
      LONGCTX_RETURN_IF_ERROR(w.write("\n"));
      *written += t.size() + 1;
      from_file += t.size() + 1;
    }
  }
  return w.close();
}

std::vector<uint32_t> parse_ids(const std::string& s, Status* st) {
  std::vector<uint32_t> ids;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t e = s.find_first_of(", ", pos);
    if (e == std::string::npos) e = s.size();
    std::string tok = s.substr(pos, e - pos);
    pos = e + 1;
    if (tok.empty()) continue;
    try {
      unsigned long long v = std::stoull(tok);
      if (v > UINT32_MAX || tok.find_first_not_of("0123456789") != std::string::npos) throw std::out_of_range(tok);
      ids.push_back(static_cast<uint32_t>(v));
    } catch (const std::exception&) {
      *st = make_error(ErrorCode::kInvalidArgument, "--ids: '{}' is not a token id", tok);
      return {};
    }
  }
  return ids;
}

}  // namespace

void register_tokenizer_commands(CLI::App& app) {
  auto* t = app.add_subcommand("tokenizer", "Train, inspect and use tokenizers (SentencePiece models such as LLaMA-2's tokenizer.model)");
  t->require_subcommand(1);
  {
    auto o = std::make_shared<TrainOpts>();
    auto* c = t->add_subcommand("train", "Train a SentencePiece BPE tokenizer (byte fallback, split digits) on a corpus");
    c->add_option("inputs", o->inputs, "Corpus files, directories or globs")->required();
    c->add_option("--out", o->out, "Output model file (a .vocab file is written beside it)")->capture_default_str();
    c->add_option("--vocab-size", o->vocab, "Vocabulary size")->capture_default_str();
    c->add_option("--max-bytes", o->max_bytes, "Text used for training")->capture_default_str();
    c->add_option("--per-doc-bytes", o->per_doc_bytes, "At most this much text from each document")->capture_default_str();
    c->add_option("--text-field", o->text_field, "JSON field holding the text")->capture_default_str();
    c->add_option("--threads", o->threads, "Trainer threads (0 = all cores)")->capture_default_str();
    c->add_flag("--verbose", o->verbose, "Show the SentencePiece trainer's log");
    c->footer("Example:\n  longctx tokenizer train data/sample/train --vocab-size 8000 --out data/tokenizer.model");
    c->callback([o] {
      auto max = parse_byte_size(o->max_bytes);
      if (!max.is_ok()) {
        exit_code() = fail(max.status());
        return;
      }
      std::string out = o->out;
      std::string prefix = out.size() > 6 && out.compare(out.size() - 6, 6, ".model") == 0 ? out.substr(0, out.size() - 6) : out;
      std::string text_path = prefix + ".train.txt";
      uint64_t written = 0;
      BadRecordStats bad;
      Status st = write_training_text(*o, *max, text_path, &written, &bad);
      if (st.is_ok() && bad.total() > 0) {
        fmt::print(stderr, "skipped {} bad records while collecting training text:", bad.total());
        for (int i = 0; i < static_cast<int>(BadRecord::kCount); ++i)
          if (bad.counts[i]) fmt::print(stderr, " {} {}", bad_record_name(static_cast<BadRecord>(i)), bad.counts[i]);
        fmt::print(stderr, "\n");
        for (const auto& e : bad.examples) fmt::print(stderr, "  e.g. {}: {}\n", e.where, e.detail);
      }
      if (!st.is_ok()) {
        (void)remove_file_if_exists(text_path);
        exit_code() = fail(st);
        return;
      }
      if (!global_quiet()) fmt::print(stderr, "training a {}-piece BPE model on {} of text...\n", o->vocab, format_bytes(static_cast<double>(written)));
      TokenizerTrainConfig tc;
      tc.input_files = {text_path};
      tc.model_prefix = prefix + ".tmp";
      tc.vocab_size = o->vocab;
      tc.num_threads = o->threads > 0 ? o->threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      {
        // The SentencePiece trainer logs its whole command line to stderr; keep the terminal
        // for our own messages unless --verbose.
        int saved = -1;
        if (!o->verbose) {
          std::fflush(stderr);
          saved = ::dup(2);
          int devnull = ::open("/dev/null", O_WRONLY);
          if (devnull >= 0) {
            ::dup2(devnull, 2);
            ::close(devnull);
          }
        }
        st = train_sentencepiece_bpe(tc);
        if (saved >= 0) {
          std::fflush(stderr);
          ::dup2(saved, 2);
          ::close(saved);
        }
      }
      (void)remove_file_if_exists(text_path);
      if (st.is_ok()) st = rename_file(prefix + ".tmp.vocab", prefix + ".vocab");
      if (st.is_ok()) st = rename_file(prefix + ".tmp.model", prefix + ".model");
      if (!st.is_ok()) {
        exit_code() = fail(st);
        return;
      }
      auto tok = load_tokenizer(prefix + ".model");
      fmt::print("wrote {} ({} pieces, checksum {})\n", prefix + ".model", o->vocab,
                 tok.is_ok() ? hex64((*tok)->model_checksum()) : std::string("?"));
    });
  }
  {
    auto model = std::make_shared<std::string>();
    auto text = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    auto pieces = std::make_shared<bool>(false);
    auto bos = std::make_shared<bool>(false);
    auto* c = t->add_subcommand("encode", "Print the token ids of a text");
    c->add_option("--tokenizer", *model, "Tokenizer model (file or directory with tokenizer.model)")->required();
    c->add_option("--text", *text, "Text to encode");
    c->add_option("--file", *file, "Encode the contents of this file instead");
    c->add_flag("--pieces", *pieces, "Print id:piece pairs");
    c->add_flag("--bos", *bos, "Prepend the BOS id");
    c->footer("Example:\n  longctx tokenizer encode --tokenizer data/tokenizer.model --text 'Hello world 2024'");
    c->callback([=] {
      auto tok = load_tokenizer(*model);
      if (!tok.is_ok()) {
        exit_code() = fail(tok.status());
        return;
      }
      std::string input = *text;
      if (!file->empty()) {
        auto r = read_file(*file);
        if (!r.is_ok()) {
          exit_code() = fail(r.status());
          return;
        }
        input = *r;
      }
      std::vector<uint32_t> ids;
      if (*bos && (*tok)->bos_id() >= 0) ids.push_back(static_cast<uint32_t>((*tok)->bos_id()));
      Status st = (*tok)->encode(input, &ids);
      if (!st.is_ok()) {
        exit_code() = fail(st);
        return;
      }
      std::string out;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ' ';
        out += *pieces ? fmt::format("{}:{}", ids[i], (*tok)->id_to_piece(ids[i])) : std::to_string(ids[i]);
      }
      fmt::print("{}\n", out);
      if (!global_quiet()) fmt::print(stderr, "{} tokens, {} bytes\n", ids.size(), input.size());
    });
  }
  {
    auto model = std::make_shared<std::string>();
    auto ids = std::make_shared<std::string>();
    auto* c = t->add_subcommand("decode", "Print the text of token ids");
    c->add_option("--tokenizer", *model, "Tokenizer model")->required();
    c->add_option("--ids", *ids, "Comma- or space-separated token ids")->required();
    c->footer("Example:\n  longctx tokenizer decode --tokenizer data/tokenizer.model --ids 1,15043,3186");
    c->callback([=] {
      auto tok = load_tokenizer(*model);
      if (!tok.is_ok()) {
        exit_code() = fail(tok.status());
        return;
      }
      Status st;
      auto v = parse_ids(*ids, &st);
      if (!st.is_ok()) {
        exit_code() = fail(st);
        return;
      }
      auto text = (*tok)->decode(v);
      if (!text.is_ok()) {
        exit_code() = fail(text.status());
        return;
      }
      fmt::print("{}\n", *text);
    });
  }
}

}  // namespace longctx::cli
