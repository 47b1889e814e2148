// longctx tokenize | store merge | store info | store verify
#include <cstdlib>
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "core/hash.h"
#include "core/units.h"
#include "store/build_store.h"
#include "store/document_store.h"

namespace longctx::cli {
namespace {

void print_dropped(const BadRecordStats& d) {
  if (d.total() == 0) return;
  fmt::print("skipped {} bad records:", d.total());
  for (int i = 0; i < static_cast<int>(BadRecord::kCount); ++i)
    if (d.counts[i]) fmt::print(" {} {}", bad_record_name(static_cast<BadRecord>(i)), d.counts[i]);
  fmt::print("\n");
  for (const auto& e : d.examples) fmt::print("  e.g. {}: {} ({})\n", e.where, e.detail, bad_record_name(e.reason));
}

}  // namespace

void register_tokenize_commands(CLI::App& app) {
  {
    auto cfg = std::make_shared<TokenizeConfig>();
    auto task = std::make_shared<std::string>("0/1");
    auto impl = std::make_shared<std::string>("auto");
    auto* c = app.add_subcommand("tokenize", "Tokenize a corpus once into a document store that every later stage reads");
    c->add_option("corpus", cfg->corpus.inputs, "Corpus files, directories (recursive) or globs: .jsonl, .jsonl.zst, .txt")->required();
    c->add_option("--tokenizer", cfg->tokenizer_path, "Tokenizer model (SentencePiece .model, or a directory holding tokenizer.model)")->required();
    c->add_option("--out", cfg->out_dir, "Output store directory")->required();
    c->add_option("--threads", cfg->threads, "Tokenizer threads (0 = all cores)")->capture_default_str();
    c->add_option("--task", *task, "Process share i of N of the input files (for many machines); join with `store merge`")->capture_default_str();
    c->add_option("--text-field", cfg->corpus.text_field, "Dotted path of the text in each JSON record")->capture_default_str();
    c->add_option("--domain-field", cfg->corpus.domain_field, "Dotted path of the domain in each JSON record")->capture_default_str();
    c->add_option("--domain-from-path", cfg->corpus.domain_from_path, "Regex over each file's relative path; group 1 is the domain (overrides --domain-field)");
    c->add_option("--default-domain", cfg->corpus.default_domain, "Domain when none is found")->capture_default_str();
    c->add_flag("--skip-bad-records", cfg->corpus.skip_bad_records, "Skip malformed records, count them by reason and report them (default: stop at the first)");
    c->add_option("--max-record-bytes", cfg->corpus.max_record_bytes, "Longest JSON line accepted (a longer one is a record_too_large bad record)")->capture_default_str();
    c->add_flag("--overwrite", cfg->overwrite, "Replace a finished store in --out");
    c->add_option("--tokenizer-impl", *impl, "Tokenizer implementation: auto (the fast exact encoder where the model allows, else the library), spm (the SentencePiece library), fast, hf (tokenizer.json)")->capture_default_str();
    c->add_option("--batch-bytes", cfg->batch_bytes, "Text per work batch (tuning)")->capture_default_str()->group("");
    c->add_option("--checkpoint-bytes", cfg->checkpoint_bytes, "Text between resume checkpoints (tuning)")->capture_default_str()->group("");
    c->footer(
        "Examples:\n"
        "  longctx tokenize data/sample/train --tokenizer data/tokenizer.model --out data/store\n"
        "  longctx tokenize 'slimpajama/train/chunk*/' --tokenizer llama2/tokenizer.model --out store-3 --task 3/16\n"
        "  longctx tokenize docs/ --domain-from-path '^([^/]+)/' --tokenizer t.model --out store\n"
        "A killed run resumes when the same command is run again.");
    c->callback([=] {
      Status st = parse_task(*task, &cfg->task, &cfg->num_tasks);
      auto which = parse_tokenizer_impl(*impl);
      if (!st.is_ok() || !which.is_ok()) {
        exit_code() = fail(!st.is_ok() ? st : which.status());
        return;
      }
      auto tok = load_tokenizer(cfg->tokenizer_path, *which);
      if (!tok.is_ok()) {
        exit_code() = fail(tok.status());
        return;
      }
      if (!(*tok)->impl_note().empty()) fmt::print(stderr, "tokenizer: {}\n", (*tok)->impl_note());
      ProgressBar bar("tokenize");
      // Test hook: simulate a crash (no clean-up at all) after this many documents are written.
      const char* kill_after = std::getenv("LONGCTX_TEST_KILL_AFTER_DOCS");
      uint64_t kill_docs = kill_after ? std::strtoull(kill_after, nullptr, 10) : 0;
      ProgressFn fn = [&](const ProgressSnapshot& s) {
        bar.render(s);
        if (kill_docs && s.docs >= kill_docs) std::_Exit(137);
      };
      auto r = tokenize_corpus(*cfg, **tok, fn);
      bar.finish();
      if (!r.is_ok()) {
        exit_code() = fail(r.status());
        return;
      }
      if (r->resumed) fmt::print("resumed an interrupted run after {} documents\n", r->resumed_documents);
      fmt::print("{} documents, {} tokens from {} of text in {} ({:.1f} MB/s, {} tokens/s) -> {}\n", r->documents,
                 format_count(static_cast<double>(r->tokens)), format_bytes(static_cast<double>(r->text_bytes)),
                 format_duration(r->seconds), r->text_bytes / 1e6 / std::max(1e-9, r->seconds),
                 format_count(r->tokens / std::max(1e-9, r->seconds)), cfg->out_dir);
      print_dropped(r->dropped);
    });
  }
  auto* store = app.add_subcommand("store", "Inspect, verify and merge document stores");
  store->require_subcommand(1);
  {
    auto out = std::make_shared<std::string>();
    auto ins = std::make_shared<std::vector<std::string>>();
    auto overwrite = std::make_shared<bool>(false);
    auto* c = store->add_subcommand("merge", "Join stores made with --task i/N (in task order) into one");
    c->add_flag("--overwrite", *overwrite, "Replace a store in --out");
    c->add_option("inputs", *ins, "Input stores, in order")->required();
    c->add_option("--out", *out, "Output store")->required();
    c->footer("Example:\n  longctx store merge store-0 store-1 store-2 store-3 --out store");
    c->callback([=] {
      Status st = merge_stores(*ins, *out, *overwrite);
      if (!st.is_ok()) {
        exit_code() = fail(st);
        return;
      }
      auto s = DocumentStore::open(*out);
      if (s.is_ok()) fmt::print("merged {} stores: {} documents, {} tokens -> {}\n", ins->size(), s->num_docs(), s->num_tokens(), *out);
    });
  }
  {
    auto dir = std::make_shared<std::string>();
    auto* c = store->add_subcommand("info", "Print a store's manifest summary");
    c->add_option("store", *dir, "Store directory")->required();
    c->footer("Example:\n  longctx store info data/store");
    c->callback([=] {
      auto s = DocumentStore::open(*dir);
      if (!s.is_ok()) {
        exit_code() = fail(s.status());
        return;
      }
      const auto& m = s->manifest();
      fmt::print("store       {}\ndocuments   {}\ntokens      {}\ntoken width {} bytes\ntokenizer   {} ({}, vocab {}, checksum {})\nfiles       {}\ndomains     ",
                 *dir, s->num_docs(), s->num_tokens(), s->token_bytes(), m["tokenizer"].value("path", "?"),
                 m["tokenizer"].value("impl", "?"), m["tokenizer"].value("vocab_size", 0), m["tokenizer"].value("checksum", "?"),
                 s->files().size());
      for (size_t i = 0; i < s->domains().size(); ++i) fmt::print("{}{}", i ? ", " : "", s->domains()[i]);
      fmt::print("\ndropped     {}\n", m.contains("dropped") ? m["dropped"].value("total", 0) : 0);
    });
  }
  {
    auto dir = std::make_shared<std::string>();
    auto* c = store->add_subcommand("verify", "Check a store's checksums and invariants");
    c->add_option("store", *dir, "Store directory")->required();
    c->footer("Example:\n  longctx store verify data/store");
    c->callback([=] {
      auto s = DocumentStore::open(*dir);
      Status st = s.is_ok() ? s->verify() : s.status();
      if (!st.is_ok()) {
        exit_code() = fail(st);
        return;
      }
      fmt::print("ok: {} documents, {} tokens, checksums match\n", s->num_docs(), s->num_tokens());
    });
  }
}

}  // namespace longctx::cli
