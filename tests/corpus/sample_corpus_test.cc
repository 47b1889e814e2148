#include "corpus/sample_corpus.h"

#include <gtest/gtest.h>

#include "corpus/corpus_reader.h"
#include "test_util.h"

namespace longctx {
namespace {

// Byte-identical output at 1 and 2 threads, > 100 MB of text, 7 SlimPajama domain names.
TEST(SampleCorpus, DeterministicAndSlimPajamaShaped) {
  std::string a = testing::scratch_dir("sample-a"), b = testing::scratch_dir("sample-b");
  SampleCorpusConfig ca;
  ca.out_dir = a;
  ca.threads = 1;
  auto ra = build_sample_corpus(ca, nullptr);
  if (!ra.is_ok() && ra.status().code() == ErrorCode::kNotFound)
    GTEST_SKIP() << ra.status().message();
  ASSERT_TRUE(ra.is_ok()) << ra.status().message();
  SampleCorpusConfig cb = ca;
  cb.out_dir = b;
  cb.threads = 2;
  auto rb = build_sample_corpus(cb, nullptr);
  ASSERT_TRUE(rb.is_ok());
  for (int s = 0; s < ca.num_shards; ++s) {
    std::string rel = "/train/chunk1/example_train_" + std::to_string(s) + ".jsonl.zst";
    ASSERT_EQ(testing::read_all(a + rel), testing::read_all(b + rel)) << rel;
  }
  EXPECT_EQ(testing::read_all(a + "/sample.json"), testing::read_all(b + "/sample.json"));
  EXPECT_GE(ra->bytes, 100u * 1000 * 1000);
  std::vector<std::string> want = {"RedPajamaArXiv",       "RedPajamaBook",      "RedPajamaC4",
                                   "RedPajamaCommonCrawl", "RedPajamaGithub",    "RedPajamaStackExchange",
                                   "RedPajamaWikipedia"};
  std::vector<std::string> got;
  for (const auto& [d, n] : ra->domain_documents) got.push_back(d);
  EXPECT_EQ(got, want);
  // Records read back through the corpus reader with the default (SlimPajama) settings.
  CorpusConfig cc;
  cc.inputs = {a + "/validation"};
  auto files = list_corpus_files(cc);
  ASSERT_TRUE(files.is_ok());
  CorpusFileReader r(cc, *files, 0, nullptr);
  Document d;
  uint64_t n = 0;
  for (;;) {
    auto got_doc = r.next(&d);
    ASSERT_TRUE(got_doc.is_ok()) << got_doc.status().message();
    if (!*got_doc) break;
    EXPECT_EQ(d.domain.rfind("RedPajama", 0), 0u);
    ++n;
  }
  EXPECT_EQ(n, ra->holdout_documents);
}

}  // namespace
}  // namespace longctx
