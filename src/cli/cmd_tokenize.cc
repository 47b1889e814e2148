// longctx tokenize | store merge | store info | store verify
#include "cli/cmd_tokenize.h"

#include <cstdlib>
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/units.h"
#include "core/validate.h"
#include "store/document_store.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {
namespace {

// Byte sizes of one record or one work batch: each is held in memory whole, so at most 4 GiB.
inline constexpr uint64_t kMaxInMemoryBytes = 1ull << 32;

void print_dropped(const BadRecordStats& d) {
  if (d.total() == 0) return;
  fmt::print("skipped {} bad records:", d.total());
  for (int i = 0; i < static_cast<int>(BadRecord::kCount); ++i)
    if (d.counts[i]) fmt::print(" {} {}", bad_record_name(static_cast<BadRecord>(i)), d.counts[i]);
  fmt::print("\n");
  for (const auto& e : d.examples) fmt::print("  e.g. {}: {} ({})\n", e.where, e.detail, bad_record_name(e.reason));
}

}  // namespace

Result<TokenizeConfig> TokenizeOptions::to_config() const {
  TokenizeConfig c = config;
  LONGCTX_RETURN_IF_ERROR(parse_task(task, &c.task, &c.num_tasks));
  LONGCTX_RETURN_IF_ERROR(check_range("--threads", c.threads, 0, kMaxThreads));
  LONGCTX_RETURN_IF_ERROR(check_range("--max-record-bytes", c.corpus.max_record_bytes, uint64_t{1}, kMaxInMemoryBytes));
  LONGCTX_RETURN_IF_ERROR(check_range("--batch-bytes", c.batch_bytes, uint64_t{1}, kMaxInMemoryBytes));
  LONGCTX_RETURN_IF_ERROR(check_range("--checkpoint-bytes", c.checkpoint_bytes, uint64_t{1}, UINT64_MAX));
  return c;
}

Status TokenizeOptions::validate() const {
  LONGCTX_RETURN_IF_ERROR(to_config().status());
  return parse_tokenizer_impl(impl).status();
}

Status run_tokenize(const TokenizeOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(TokenizeConfig cfg, o.to_config());
  LONGCTX_RETURN_IF_ERROR(check_outputs({{cfg.out_dir, &kinds::kDocumentStore, "--out"}}, cfg.overwrite));
  LONGCTX_ASSIGN_OR_RETURN(TokenizerImpl which, parse_tokenizer_impl(o.impl));
  LONGCTX_ASSIGN_OR_RETURN(auto tok, load_tokenizer(cfg.tokenizer_path, which));
  if (!tok->impl_note().empty()) fmt::print(stderr, "tokenizer: {}\n", tok->impl_note());
  ProgressBar bar("tokenize");
  auto r = tokenize_corpus(cfg, *tok, with_test_kill_hooks(bar.fn()));
  bar.finish();
  LONGCTX_RETURN_IF_ERROR(r.status());
  print_notes(r->notes);
  if (r->resumed) fmt::print("resumed an interrupted run after {} documents\n", r->resumed_documents);
  fmt::print("{} documents, {} tokens from {} of text in {} ({:.1f} MB/s, {} tokens/s) -> {}\n", r->documents,
             format_count(static_cast<double>(r->tokens)), format_bytes(static_cast<double>(r->text_bytes)),
             format_duration(r->seconds), r->text_bytes / 1e6 / std::max(1e-9, r->seconds),
             format_count(r->tokens / std::max(1e-9, r->seconds)), cfg.out_dir);
  print_dropped(r->dropped);
  return Status::ok();
}

Status run_store_merge(const StoreMergeOptions& o) {
  LONGCTX_RETURN_IF_ERROR(check_outputs({{o.out, &kinds::kDocumentStore, "--out"}}, o.overwrite));
  LONGCTX_RETURN_IF_ERROR(merge_stores(o.inputs, o.out, o.overwrite));
  auto s = DocumentStore::open(o.out);
  if (s.is_ok()) fmt::print("merged {} stores: {} documents, {} tokens -> {}\n", o.inputs.size(), s->num_docs(), s->num_tokens(), o.out);
  return Status::ok();
}

Status run_store_info(const StoreInfoOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(DocumentStore s, DocumentStore::open(o.store));
  const auto& m = s.manifest();
  fmt::print("store       {}\ndocuments   {}\ntokens      {}\ntoken width {} bytes\ntokenizer   {} ({}, vocab {}, checksum {})\nfiles       {}\ndomains     ",
             o.store, s.num_docs(), s.num_tokens(), s.token_bytes(), m["tokenizer"].value("path", "?"),
             m["tokenizer"].value("impl", "?"), m["tokenizer"].value("vocab_size", 0), m["tokenizer"].value("checksum", "?"),
             s.files().size());
  for (size_t i = 0; i < s.domains().size(); ++i) fmt::print("{}{}", i ? ", " : "", s.domains()[i]);
  fmt::print("\ndropped     {}\n", m.contains("dropped") ? m["dropped"].value("total", 0) : 0);
  return Status::ok();
}

Status run_store_verify(const StoreVerifyOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(DocumentStore s, DocumentStore::open(o.store));
  LONGCTX_RETURN_IF_ERROR(s.verify());
  fmt::print("ok: {} documents, {} tokens, checksums match", s.num_docs(), s.num_tokens());
  if (s.vocab_size()) fmt::print(", every token id below the vocabulary size {}", s.vocab_size());
  fmt::print("\n");
  return Status::ok();
}

void register_tokenize_commands(CLI::App& app) {
  {
    auto o = std::make_shared<TokenizeOptions>();
    TokenizeConfig& cfg = o->config;
    auto* c = app.add_subcommand("tokenize", "Tokenize a corpus once into a document store that every later stage reads");
    c->add_option("corpus", cfg.corpus.inputs, "Corpus files, directories (recursive) or globs: .jsonl, .jsonl.zst, .txt")->required();
    c->add_option("--tokenizer", cfg.tokenizer_path, "Tokenizer: a SentencePiece .model, a Hugging Face tokenizer.json, or a model folder holding one")->required();
    c->add_option("--out", cfg.out_dir, "Output store directory")->required();
    add_number(c, "--threads", cfg.threads, "Tokenizer threads (0 = all cores)");
    c->add_option("--task", o->task, "Process share i of N of the input files (for many machines); join with `store merge`")->capture_default_str();
    c->add_option("--text-field", cfg.corpus.text_field, "Dotted path of the text in each JSON record")->capture_default_str();
    c->add_option("--domain-field", cfg.corpus.domain_field, "Dotted path of the domain in each JSON record")->capture_default_str();
    c->add_option("--domain-from-path", cfg.corpus.domain_from_path, "Regex over each file's relative path; group 1 is the domain (overrides --domain-field)");
    c->add_option("--default-domain", cfg.corpus.default_domain, "Domain when none is found")->capture_default_str();
    c->add_flag("--skip-bad-records", cfg.corpus.skip_bad_records, "Skip malformed records, count them by reason and report them (default: stop at the first)");
    add_number(c, "--max-record-bytes", cfg.corpus.max_record_bytes, "Longest JSON line accepted (a longer one is a record_too_large bad record)");
    c->add_flag("--overwrite", cfg.overwrite, "Replace a finished store in --out (never anything but a document store)");
    c->add_option("--tokenizer-impl", o->impl, "Tokenizer implementation: auto (the fast exact encoder where the model allows, else the library), spm (the SentencePiece library), fast, hf (tokenizer.json)")->capture_default_str();
    add_number(c, "--batch-bytes", cfg.batch_bytes, "Text per work batch (tuning)")->group("");
    add_number(c, "--checkpoint-bytes", cfg.checkpoint_bytes, "Text between resume checkpoints (tuning)")->group("");
    set_examples(c,
                 {"longctx tokenize data/sample/train --tokenizer data/tokenizer.model --out data/store",
                  "longctx tokenize 'slimpajama/train/chunk*/' --tokenizer llama2/tokenizer.model --out store-3 --task 3/16",
                  "longctx tokenize docs/ --domain-from-path '^([^/]+)/' --tokenizer t.model --out store"},
                 "A killed run resumes when the same command is run again.");
    set_run(c, o, run_tokenize);
  }
  auto* store = app.add_subcommand("store", "Inspect, verify and merge document stores");
  store->require_subcommand(1);
  set_examples(store, {"longctx store info data/store", "longctx store verify data/store"});
  {
    auto o = std::make_shared<StoreMergeOptions>();
    auto* c = store->add_subcommand("merge", "Join stores made with --task i/N (in task order) into one");
    c->add_flag("--overwrite", o->overwrite, "Replace a document store in --out (never anything else)");
    c->add_option("inputs", o->inputs, "Input stores, in order")->required();
    c->add_option("--out", o->out, "Output store")->required();
    set_examples(c, {"longctx store merge store-0 store-1 store-2 store-3 --out store"});
    set_run(c, o, run_store_merge);
  }
  {
    auto o = std::make_shared<StoreInfoOptions>();
    auto* c = store->add_subcommand("info", "Print a store's manifest summary");
    c->add_option("store", o->store, "Store directory")->required();
    set_examples(c, {"longctx store info data/store"});
    set_run(c, o, run_store_info);
  }
  {
    auto o = std::make_shared<StoreVerifyOptions>();
    auto* c = store->add_subcommand("verify", "Check a store's checksums and invariants");
    c->add_option("store", o->store, "Store directory")->required();
    set_examples(c, {"longctx store verify data/store"});
    set_run(c, o, run_store_verify);
  }
}

}  // namespace longctx::cli
