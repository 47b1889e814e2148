// The run lifecycle (core/run_dir.h) and the output policy (core/outputs.h), on hand-made
// directories: every expectation follows from the rules written in those headers.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/json_util.h"
#include "core/outputs.h"
#include "core/run_dir.h"

namespace longctx {
namespace {

namespace fs = std::filesystem;

std::string tmpdir(const std::string& name) {
  std::string d = std::string(LONGCTX_TEST_TMP) + "/core-run/" + std::to_string(::getpid()) + "/" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void put(const std::string& path, const std::string& text) { ASSERT_TRUE(write_file_atomic(path, text).is_ok()); }

std::string get(const std::string& path) {
  auto r = read_file(path);
  return r.is_ok() ? *r : "<missing>";
}

bool has(const std::string& message, const std::string& part) { return message.find(part) != std::string::npos; }

const std::string kStoreManifest = R"({"format": {"name": "longctx-document-store", "version": 1}})";
const std::string kMixManifest = R"({"format": {"name": "longctx-packed", "version": 1}})";

RunDir::Options store_opts(const std::string& dir, nlohmann::json fp, bool overwrite = false) {
  return {dir, &kinds::kDocumentStore, std::move(fp), overwrite};
}

TEST(RunDir, FreshRunRecordsItsKindAndFingerprintAtOnce) {
  std::string d = tmpdir("fresh") + "/out";
  auto run = RunDir::open(store_opts(d, "fp-1"));
  ASSERT_TRUE(run.is_ok()) << run.status().message();
  EXPECT_EQ(run->start(), RunDir::Start::kFresh);
  auto j = read_json_file(d + "/resume.json");
  ASSERT_TRUE(j.is_ok());
  EXPECT_EQ((*j)["kind"], "document-store");
  EXPECT_EQ((*j)["fingerprint"], "fp-1");
  EXPECT_TRUE((*j)["state"].is_null());
  // The directory is now recognised as an (unfinished) document store.
  EXPECT_EQ(identify_output(d), &kinds::kDocumentStore);
}

TEST(RunDir, LockExcludesASecondRun) {
  std::string d = tmpdir("lock");
  auto a = RunDir::open(store_opts(d, "fp"));
  ASSERT_TRUE(a.is_ok());
  auto b = RunDir::open(store_opts(d, "fp"));
  ASSERT_FALSE(b.is_ok());
  EXPECT_TRUE(has(b.status().message(), "another longctx run")) << b.status().message();
}

TEST(RunDir, SameFingerprintResumesFromTheLastCheckpoint) {
  std::string d = tmpdir("resume");
  {
    auto run = RunDir::open(store_opts(d, "fp"));
    ASSERT_TRUE(run.is_ok());
    ASSERT_TRUE(run->checkpoint({{"position", 7}}).is_ok());
  }  // "killed": the lock goes with the process
  auto again = RunDir::open(store_opts(d, "fp"));
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_EQ(again->start(), RunDir::Start::kResume);
  EXPECT_EQ(again->state()["position"], 7);
}

TEST(RunDir, AnotherCommandIsRefusedUnlessOverwrite) {
  std::string d = tmpdir("other");
  {
    auto run = RunDir::open(store_opts(d, "fp-a"));
    ASSERT_TRUE(run->checkpoint({{"position", 1}}).is_ok());
    put(d + "/tokens.bin.partial", "partial data");
  }
  auto b = RunDir::open(store_opts(d, "fp-b"));
  ASSERT_FALSE(b.is_ok());
  EXPECT_TRUE(has(b.status().message(), "interrupted run of a different command")) << b.status().message();
  EXPECT_EQ(get(d + "/tokens.bin.partial"), "partial data");  // nothing was touched
  auto c = RunDir::open(store_opts(d, "fp-b", true));
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->start(), RunDir::Start::kFresh);
  EXPECT_FALSE(file_exists(d + "/tokens.bin.partial"));
}

TEST(RunDir, AFailedRunIsNotCalledInterruptedAndIsDiscardedByAnotherCommand) {
  std::string d = tmpdir("failed");
  {
    auto run = RunDir::open(store_opts(d, "strict"));
    put(d + "/tokens.bin.partial", "x");
    Status st = run->fail(make_error(ErrorCode::kCorrupt, "a.jsonl:2: malformed JSON"));
    EXPECT_TRUE(has(st.message(), "a.jsonl:2"));
  }
  EXPECT_TRUE(has(describe_unfinished_run(d), "a run that failed (a.jsonl:2: malformed JSON)"));
  EXPECT_FALSE(has(describe_unfinished_run(d), "interrupted"));
  auto other = RunDir::open(store_opts(d, "skip-bad-records"));
  ASSERT_TRUE(other.is_ok()) << other.status().message();
  EXPECT_EQ(other->start(), RunDir::Start::kFresh);
  ASSERT_EQ(other->notes().size(), 1u);
  EXPECT_TRUE(has(other->notes()[0], "earlier run that failed (a.jsonl:2")) << other->notes()[0];
  EXPECT_FALSE(has(other->notes()[0], "interrupted"));
  EXPECT_FALSE(file_exists(d + "/tokens.bin.partial"));
}

TEST(RunDir, PublishRenamesDataThenManifestAndAnInterruptedPublishIsCompleted) {
  std::string d = tmpdir("publish");
  {
    auto run = RunDir::open(store_opts(d, "fp"));
    put(d + "/tokens.bin.partial", "T");
    put(d + "/docs.bin.partial", "D");
    ASSERT_TRUE(run->publish(nlohmann::json::parse(kStoreManifest)).is_ok());
  }
  EXPECT_EQ(get(d + "/tokens.bin"), "T");
  EXPECT_EQ(get(d + "/docs.bin"), "D");
  EXPECT_TRUE(file_exists(d + "/manifest.json"));
  EXPECT_FALSE(file_exists(d + "/resume.json"));
  EXPECT_TRUE(output_finished(d, kinds::kDocumentStore));

  // Rewind to a crash after the first data rename, with the run's resume.json still there.
  ASSERT_TRUE(rename_file(d + "/manifest.json", d + "/manifest.json.partial").is_ok());
  ASSERT_TRUE(rename_file(d + "/docs.bin", d + "/docs.bin.partial").is_ok());
  put(d + "/resume.json", R"({"kind": "document-store", "fingerprint": "fp", "state": {"n": 1}})");
  auto same = RunDir::open(store_opts(d, "fp"));
  ASSERT_TRUE(same.is_ok()) << same.status().message();
  EXPECT_EQ(same->start(), RunDir::Start::kAlreadyDone);
  EXPECT_EQ(get(d + "/docs.bin"), "D");
  EXPECT_FALSE(file_exists(d + "/resume.json"));
  EXPECT_TRUE(has(same->notes().at(0), "completed the publish"));
}

TEST(RunDir, FinishedOutputNeedsOverwriteWhichRemovesOnlyTheKindsFiles) {
  std::string d = tmpdir("finished");
  put(d + "/manifest.json", kStoreManifest);
  put(d + "/tokens.bin", "T");
  put(d + "/docs.bin", "D");
  put(d + "/notes.txt", "the user's own file");
  auto no = RunDir::open(store_opts(d, "fp"));
  ASSERT_FALSE(no.is_ok());
  EXPECT_TRUE(has(no.status().message(), "already holds a document store")) << no.status().message();
  EXPECT_TRUE(has(no.status().message(), "--overwrite"));
  auto yes = RunDir::open(store_opts(d, "fp", true));
  ASSERT_TRUE(yes.is_ok()) << yes.status().message();
  EXPECT_FALSE(file_exists(d + "/manifest.json"));
  EXPECT_FALSE(file_exists(d + "/tokens.bin"));
  EXPECT_EQ(get(d + "/notes.txt"), "the user's own file");
}

TEST(RunDir, AnotherKindIsRefusedByNameEvenWithOverwrite) {
  std::string d = tmpdir("kinds");
  put(d + "/manifest.json", kStoreManifest);
  put(d + "/tokens.bin", "T");
  auto mix = RunDir::open({d, &kinds::kMixture, "fp", /*overwrite=*/true});
  ASSERT_FALSE(mix.is_ok());
  EXPECT_TRUE(has(mix.status().message(), "is a document store, not a mixture")) << mix.status().message();
  EXPECT_TRUE(has(mix.status().message(), "choose another --out"));
  EXPECT_EQ(get(d + "/manifest.json"), kStoreManifest);
  EXPECT_EQ(get(d + "/tokens.bin"), "T");
}

TEST(RunDir, StartOverRemovesTheKindsFilesAndSaysWhy) {
  std::string d = tmpdir("start-over");
  auto run = RunDir::open(store_opts(d, "fp"));
  put(d + "/tokens.bin.partial", "stale");
  ASSERT_TRUE(run->start_over("'tokens.bin.partial' does not match its checkpoint").is_ok());
  EXPECT_FALSE(file_exists(d + "/tokens.bin.partial"));
  EXPECT_TRUE(file_exists(d + "/resume.json"));
  EXPECT_TRUE(has(run->notes().back(), "does not match its checkpoint; starting over"));
}

TEST(RunDir, FilesOfTheKindWithoutResumeStateAreNotTrusted) {
  std::string d = tmpdir("no-state");
  put(d + "/shard-00000.lcpk", "LCTXPAK1...");
  auto run = RunDir::open({d, &kinds::kMixture, "fp"});
  ASSERT_FALSE(run.is_ok());
  EXPECT_TRUE(has(run.status().message(), "neither its manifest nor resume state")) << run.status().message();
  EXPECT_TRUE(file_exists(d + "/shard-00000.lcpk"));
}

TEST(RunDir, APlanWrittenByPlanOnlyIsKeptByTheMixThatFollows) {
  std::string d = tmpdir("plan-then-mix");
  put(d + "/plan.json", R"({"config": {}, "chunks": 4, "pieces": 9})");
  EXPECT_EQ(identify_output(d), &kinds::kMixture);
  auto run = RunDir::open({d, &kinds::kMixture, "fp"});
  ASSERT_TRUE(run.is_ok()) << run.status().message();
  EXPECT_EQ(run->start(), RunDir::Start::kFresh);
  EXPECT_TRUE(file_exists(d + "/plan.json"));
}

// ---- the output policy for single files ----

TEST(OutputPolicy, SpecialFilesAreRefusedAndNeverReplaced) {
  std::string d = tmpdir("special");
  ASSERT_EQ(::mkfifo((d + "/fifo").c_str(), 0644), 0);
  put(d + "/target.npy", "\x93NUMPY precious");
  fs::create_symlink(d + "/target.npy", d + "/link.npy");
  for (const std::string& p : {d + "/fifo", d + "/link.npy", std::string("/dev/null")}) {
    Status st = check_output(p, kinds::kNpy, /*overwrite=*/true);
    ASSERT_FALSE(st.is_ok()) << p;
    EXPECT_TRUE(has(st.message(), "never writes to or replaces")) << st.message();
    EXPECT_TRUE(has(st.message(), "'-' for standard output")) << st.message();
    // The writer itself refuses too, on open and before its rename.
    auto w = AtomicWriter::open(p);
    EXPECT_FALSE(w.is_ok()) << p;
    EXPECT_FALSE(write_file_atomic(p, "x").is_ok()) << p;
  }
  EXPECT_EQ(path_type(d + "/fifo"), PathType::kFifo);
  EXPECT_EQ(path_type(d + "/link.npy"), PathType::kSymlink);
  EXPECT_EQ(get(d + "/target.npy"), "\x93NUMPY precious");
  EXPECT_EQ(path_type("/dev/null"), PathType::kCharDevice);
  // Nor can a rename land on one.
  put(d + "/src", "x");
  EXPECT_FALSE(rename_file(d + "/src", d + "/link.npy").is_ok());
  EXPECT_EQ(path_type(d + "/link.npy"), PathType::kSymlink);
}

TEST(OutputPolicy, ADeviceNodeIsNeverReplaced) {
  // mknod needs CAP_MKNOD (root in a container); where it is denied, /dev/null stands in above.
  std::string d = tmpdir("device");
  const std::string dev = d + "/full";
  if (::mknod(dev.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) GTEST_SKIP() << "mknod not permitted here";
  EXPECT_FALSE(check_output(dev, kinds::kNpy, true).is_ok());
  EXPECT_FALSE(write_file_atomic(dev, "x").is_ok());
  put(d + "/src", "x");
  EXPECT_FALSE(rename_file(d + "/src", dev).is_ok());
  EXPECT_EQ(path_type(dev), PathType::kCharDevice);
}

TEST(OutputPolicy, SameKindNeedsOverwriteOtherKindsAndUnknownFilesNever) {
  std::string d = tmpdir("files");
  put(d + "/a.npy", "\x93NUMPY\x01\x00");
  EXPECT_TRUE(check_output(d + "/new.npy", kinds::kNpy, false).is_ok());
  Status same = check_output(d + "/a.npy", kinds::kNpy, false);
  EXPECT_TRUE(has(same.message(), "already exists (a NumPy array")) << same.message();
  EXPECT_TRUE(check_output(d + "/a.npy", kinds::kNpy, true).is_ok());
  Status other = check_output(d + "/a.npy", kinds::kFigure, true, "--figure");
  EXPECT_TRUE(has(other.message(), "is a NumPy array (.npy), not a figure")) << other.message();
  EXPECT_TRUE(has(other.message(), "choose another --figure"));
  put(d + "/README.md", "# notes\n");
  Status unknown = check_output(d + "/README.md", kinds::kMarkdown, true, "--markdown");
  EXPECT_TRUE(has(unknown.message(), "does not recognise its content")) << unknown.message();
  EXPECT_TRUE(check_output("-", kinds::kNpy, false).is_ok());
  EXPECT_FALSE(check_output("-", kinds::kGguf, false).is_ok());
}

TEST(OutputPolicy, AFileOfADirectoryKindIsNamedAsPartOfIt) {
  std::string d = tmpdir("store-files");
  put(d + "/manifest.json", kStoreManifest);
  put(d + "/tokens.bin", std::string("LCTXTOK1") + std::string(24, '\0'));
  Status tokens = check_output(d + "/tokens.bin", kinds::kMegatronExport, true);
  EXPECT_TRUE(has(tokens.message(), "is a document store's data file, not a Megatron export")) << tokens.message();
  Status manifest = check_output(d + "/manifest.json", kinds::kStatsJson, true, "--json");
  EXPECT_TRUE(has(manifest.message(), "is part of a document store ('" + d + "')")) << manifest.message();
  Status dir = check_output(d, kinds::kMixture, true);
  EXPECT_TRUE(has(dir.message(), "is a document store, not a mixture")) << dir.message();
  Status file_as_dir = check_output(d + "/tokens.bin", kinds::kMixture, true);
  EXPECT_TRUE(has(file_as_dir.message(), "not a mixture (packed shards) (a directory)")) << file_as_dir.message();
}

// A training run directory (written by `longctx train`, run.json's format "longctx-train-run"):
// no other command writes into it or replaces it, and a file in it is named as part of it.
TEST(OutputPolicy, ATrainingRunIsNamedAndNeverReplacedByAnotherKind) {
  std::string d = tmpdir("train-run");
  put(d + "/run.json", R"({"format": "longctx-train-run", "version": 1, "config": {}, "identity": {}})");
  put(d + "/metrics.jsonl", "{\"step\": 1}\n");
  ASSERT_TRUE(make_dirs(d + "/step-000060").is_ok());
  EXPECT_EQ(identify_output(d), &kinds::kTrainingRun);
  for (const OutputKind* k : {&kinds::kMixture, &kinds::kDocumentStore, &kinds::kCheckpoint, &kinds::kSampleCorpus}) {
    Status st = check_output(d, *k, /*overwrite=*/true);
    EXPECT_TRUE(has(st.message(), "is a training run directory, not " + std::string(k->name))) << st.message();
  }
  Status file = check_output(d + "/metrics.jsonl", kinds::kJsonlRows, true);
  EXPECT_TRUE(has(file.message(), "is part of a training run directory ('" + d + "')")) << file.message();
  // A directory that only looks like a run (a step-N folder, no run.json) is not written into as one.
  std::string u = tmpdir("train-like");
  ASSERT_TRUE(make_dirs(u + "/step-000001").is_ok());
  EXPECT_FALSE(check_output(u, kinds::kTrainingRun, false).is_ok());
}

TEST(OutputPolicy, AnUnrecognisedDirectoryIsUsedOnlyWhenItHoldsNoneOfTheKindsNames) {
  std::string d = tmpdir("unrelated");
  put(d + "/notes.txt", "x");
  EXPECT_TRUE(check_output(d, kinds::kMixture, false).is_ok());
  put(d + "/manifest.json", R"({"name": "someone else's"})");
  Status st = check_output(d, kinds::kMixture, true);
  EXPECT_TRUE(has(st.message(), "holds 'manifest.json', which is not part of a mixture")) << st.message();
  // A SlimPajama copy (train/ without our markers) is never taken for a sample corpus.
  std::string sp = tmpdir("slimpajama");
  fs::create_directories(sp + "/train/chunk1");
  EXPECT_FALSE(check_output(sp, kinds::kSampleCorpus, true).is_ok());
}

// The evaluation folders (longctx needle --out, longctx loss --out) are kinds: recognised by their
// manifest's format, refused by name to other kinds and the other way round, and, being folders
// of their own (`sole`), never written into a directory that holds anything else.
TEST(OutputPolicy, EvaluationFoldersAreKindsOfTheirOwn) {
  std::string n = tmpdir("needle-run"), l = tmpdir("loss-run");
  put(n + "/needle.json", R"({"format": "longctx-needle-run", "version": 1})");
  put(n + "/results.jsonl", "{}\n");
  put(l + "/loss.json", R"({"format": "longctx-loss", "version": 1})");
  EXPECT_EQ(identify_output(n), &kinds::kNeedleRun);
  EXPECT_EQ(identify_output(l), &kinds::kLossRun);
  EXPECT_TRUE(has(check_output(n, kinds::kLossRun, true).message(), "is a needle sweep folder, not a loss evaluation folder"));
  EXPECT_TRUE(has(check_output(l, kinds::kMixture, true).message(), "is a loss evaluation folder, not a mixture"));
  EXPECT_TRUE(has(check_output(n + "/results.jsonl", kinds::kJsonlRows, true).message(), "is part of a needle sweep folder"));
  EXPECT_TRUE(has(check_output(n, kinds::kNeedleRun, false).message(), "already holds a needle sweep folder (finished)"));
  EXPECT_TRUE(check_output(n, kinds::kNeedleRun, true).is_ok());
  // A store is not a sweep folder, whatever the flags.
  std::string st = tmpdir("eval-store");
  put(st + "/manifest.json", kStoreManifest);
  EXPECT_TRUE(has(check_output(st, kinds::kNeedleRun, true).message(), "is a document store, not a needle sweep folder"));
  // Empty (or only our lock): fine. Anything else in it: refused, even a name of no kind.
  std::string e = tmpdir("eval-empty");
  put(e + "/.lock", "");
  EXPECT_TRUE(check_output(e, kinds::kNeedleRun, false).is_ok());
  put(e + "/notes.txt", "mine");
  for (const OutputKind* k : {&kinds::kNeedleRun, &kinds::kLossRun}) {
    Status s = check_output(e, *k, true);
    EXPECT_TRUE(has(s.message(), "holds 'notes.txt', which is not part of " + std::string(k->name))) << s.message();
  }
  EXPECT_TRUE(check_output(e, kinds::kMixture, false).is_ok());  // other kinds keep the general rule
  // A manifest with the same name but another format is not ours.
  std::string other = tmpdir("eval-other");
  put(other + "/needle.json", R"({"format": "someone-else"})");
  EXPECT_EQ(identify_output(other), nullptr);
  EXPECT_FALSE(check_output(other, kinds::kNeedleRun, true).is_ok());
}

// The sniffers read whatever files they find: a key of an unexpected type is "not recognised",
// never an exception (nlohmann's value() throws on a type mismatch).
TEST(OutputPolicy, KeysOfTheWrongTypeAreNotRecognisedAndNeverThrow) {
  std::string d = tmpdir("wrong-types");
  put(d + "/resume.json", R"({"kind": 5, "fingerprint": 1})");
  put(d + "/run.json", R"({"format": ["longctx-train-run"]})");
  put(d + "/needle.json", R"({"format": {"name": 3}})");
  EXPECT_EQ(identify_output(d), nullptr);
  // A resume.json that names no kind is a file of no known run: refused, not trusted.
  std::string r = tmpdir("wrong-resume");
  put(r + "/resume.json", R"({"kind": 5})");
  auto run = RunDir::open(store_opts(r, "fp"));
  ASSERT_FALSE(run.is_ok());
  EXPECT_TRUE(has(run.status().message(), "holds 'resume.json', which is not part of a document store")) << run.status().message();
  // Recognised as a store by its partial data, with such a resume.json: not trusted either.
  put(r + "/tokens.bin.partial", "LCTXTOK1");
  run = RunDir::open(store_opts(r, "fp"));
  ASSERT_FALSE(run.is_ok());
  EXPECT_TRUE(has(run.status().message(), "neither its manifest nor resume state")) << run.status().message();
}

TEST(OutputPolicy, RemoveKindFilesKeepsEverythingElse) {
  std::string d = tmpdir("remove");
  for (const char* f : {"manifest.json", "shard-00000.lcpk", "shard-00001.lcpk.tmp", "rows.jsonl", "llmc_000002.bin",
                        "resume.json", "notes.txt", "shard-x.lcpk", ".lock"})
    put(d + "/" + f, "x");
  ASSERT_TRUE(remove_kind_files(d, kinds::kMixture).is_ok());
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(d)) left.insert(e.path().filename().string());
  EXPECT_EQ(left, (std::set<std::string>{"notes.txt", "shard-x.lcpk", ".lock"}));
}

}  // namespace
}  // namespace longctx
