// Baseline for the tokenization benchmark: the SentencePiece library called directly, one thread,
// on documents already in memory (no reading, parsing or writing). Prints one JSON line:
// {"bytes", "tokens", "seconds", "mb_per_s", "tokens_per_s"}.
#include <sentencepiece_processor.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "corpus/corpus_reader.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_spm_direct MODEL CORPUS...\n");
    return 2;
  }
  sentencepiece::SentencePieceProcessor sp;
  if (!sp.Load(argv[1]).ok()) {
    std::fprintf(stderr, "cannot load %s\n", argv[1]);
    return 1;
  }
  longctx::CorpusConfig cfg;
  for (int i = 2; i < argc; ++i) cfg.inputs.push_back(argv[i]);
  cfg.skip_bad_records = true;
  auto files = longctx::list_corpus_files(cfg);
  if (!files.is_ok()) {
    std::fprintf(stderr, "%s\n", files.status().message().c_str());
    return 1;
  }
  std::vector<std::string> docs;
  longctx::BadRecordStats bad;
  for (uint32_t f = 0; f < files->paths.size(); ++f) {
    longctx::CorpusFileReader r(cfg, *files, f, &bad);
    longctx::Document d;
    for (;;) {
      auto got = r.next(&d);
      if (!got.is_ok() || !*got) break;
      docs.push_back(std::move(d.text));
    }
  }
  uint64_t bytes = 0, tokens = 0;
  std::vector<int> ids;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& d : docs) {
    sp.Encode(d, &ids);
    bytes += d.size();
    tokens += ids.size();
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"documents\": %zu, \"bytes\": %llu, \"tokens\": %llu, \"seconds\": %.3f, \"mb_per_s\": %.3f, \"tokens_per_s\": %.0f}\n",
              docs.size(), static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(tokens), s,
              bytes / 1e6 / s, tokens / s);
  return 0;
}
