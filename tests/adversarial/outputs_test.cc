// Safe outputs (core/outputs.h), through the real binary: no command writes to or replaces a
// device, FIFO, socket or symbolic link; no command replaces an existing output without
// --overwrite; --overwrite replaces only an output of the same kind and removes only its files.
// Each test is one of the reported repros or one row of the "every writing command" table.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <set>

#include "adversarial_util.h"
#include "core/file_io.h"
#include "model/checkpoint.h"
#include "model/config.h"

namespace longctx::adversarial {
namespace {

namespace fs = std::filesystem;

// The special files a test directory can hold: a FIFO, a symbolic link to a regular file, and a
// character device node (1, 7: the device /dev/full is) where mknod is permitted.
struct SpecialFiles {
  std::string fifo, link, link_target, device;
};
SpecialFiles make_special_files(const std::string& dir, const std::string& ext) {
  SpecialFiles s{dir + "/fifo" + ext, dir + "/link" + ext, dir + "/target" + ext, ""};
  EXPECT_EQ(::mkfifo(s.fifo.c_str(), 0644), 0);
  EXPECT_TRUE(write_file_atomic(s.link_target, "precious").is_ok());
  fs::create_symlink(s.link_target, s.link);
  if (::mknod((dir + "/full" + ext).c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0) s.device = dir + "/full" + ext;
  return s;
}

void expect_untouched(const SpecialFiles& s) {
  EXPECT_EQ(path_type(s.fifo), PathType::kFifo);
  EXPECT_EQ(path_type(s.link), PathType::kSymlink);
  EXPECT_EQ(read_all(s.link_target), "precious");
  if (!s.device.empty()) {
    EXPECT_EQ(path_type(s.device), PathType::kCharDevice);
  }
}

// Repro: `model forward --out /dev/full` exited 0 and /dev/full became a regular file.
TEST(SafeOutputs, ModelForwardNeverReplacesADeviceFifoOrLink) {
  std::string d = scratch_dir("adv-forward");
  const std::string fwd = "model forward --model " + reference_model() + " --ids 1,2 --out ";
  auto r = run_longctx(fwd + "/dev/full");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "'/dev/full' is a character device")) << r.output;
  EXPECT_TRUE(contains(r.output, "'-' for standard output")) << r.output;
  EXPECT_EQ(path_type("/dev/full"), PathType::kCharDevice);
  EXPECT_EQ(path_type("/dev/null"), PathType::kCharDevice);
  SpecialFiles s = make_special_files(d, ".npy");
  for (const std::string& p : {s.fifo, s.link, s.device}) {
    if (p.empty()) continue;
    r = run_longctx(fwd + p + " --overwrite");
    EXPECT_NE(r.exit_code, 0) << p << ": " << r.output;
    EXPECT_TRUE(contains(r.output, "never writes to or replaces")) << r.output;
  }
  expect_untouched(s);
  // "-": the array goes to standard output, the message to standard error.
  r = run_command(std::string("(") + LONGCTX_BINARY + " -q " + fwd + "- > " + d + "/stdout.npy)");  // stderr: r.output
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_all(d + "/stdout.npy").substr(0, 6), "\x93NUMPY");
  EXPECT_TRUE(contains(r.output, "logits (2, 61) float32 -> standard output")) << r.output;
  r = run_longctx(fwd + d + "/file.npy");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_all(d + "/stdout.npy"), read_all(d + "/file.npy"));
}

// Repro: `export MIX --format megatron --out STORE/tokens` replaced the store's tokens.bin.
TEST(SafeOutputs, ExportNeverReplacesAStoreFile) {
  std::string root = scratch_dir("adv-export");
  std::string store = small_store(root + "/store"), mix = root + "/mix";
  ASSERT_EQ(run_longctx(mix_args(store, mix)).exit_code, 0);
  const std::string tokens = read_all(store + "/tokens.bin"), manifest = read_all(store + "/manifest.json");
  for (const char* ow : {"", " --overwrite"}) {
    auto r = run_longctx("export " + mix + " --format megatron --out " + store + "/tokens" + ow);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "is a document store's data file, not a Megatron export")) << r.output;
    r = run_longctx("export " + mix + " --format jsonl --out " + store + "/manifest.json" + ow);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "is part of a document store ('" + store + "')")) << r.output;
  }
  EXPECT_EQ(read_all(store + "/tokens.bin"), tokens);
  EXPECT_EQ(read_all(store + "/manifest.json"), manifest);
  EXPECT_FALSE(file_exists(store + "/tokens.idx"));
  EXPECT_EQ(run_longctx("store verify " + store).exit_code, 0);
}

// Repro: `mix STORE --out STORE` called the store "a finished mixture" and --overwrite replaced
// the store's manifest.
TEST(SafeOutputs, MixNeverReplacesAStore) {
  std::string root = scratch_dir("adv-mix-store");
  std::string store = small_store(root + "/store");
  const auto before = tree(store);
  for (const char* ow : {"", " --overwrite"}) {
    auto r = run_longctx(mix_args(store, store) + ow);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "'" + store + "' is a document store, not a mixture")) << r.output;
    EXPECT_TRUE(contains(r.output, "choose another --out")) << r.output;
    EXPECT_FALSE(contains(r.output, "finished mixture")) << r.output;
  }
  EXPECT_TRUE(tree(store) == before);
  // Nor the other way round: a store is never written over a mixture.
  std::string mix = root + "/mix";
  ASSERT_EQ(run_longctx(mix_args(store, mix)).exit_code, 0);
  auto r = run_longctx("store merge " + store + " --out " + mix + " --overwrite");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "is a mixture (packed shards), not a document store")) << r.output;
  EXPECT_EQ(run_longctx("verify " + mix).exit_code, 0);
}

// Repro: `model init --out EXISTING` silently replaced weights, leaving a sharded checkpoint
// half-replaced.
TEST(SafeOutputs, ModelInitReplacesOnlyACheckpointAndThenWholly) {
  std::string root = scratch_dir("adv-init");
  const std::string config = reference_model() + "/config.json", ckpt = root + "/ckpt";
  {  // A sharded checkpoint: three weight files and an index.
    auto cfg = model::read_config(config);
    ASSERT_TRUE(cfg.is_ok());
    auto m = model::LlamaModel::create(*cfg);
    ASSERT_TRUE(m.is_ok());
    model::SaveOptions so;
    so.max_shard_bytes = 8192;
    ASSERT_TRUE(model::save_checkpoint(*m, ckpt, so).is_ok());
  }
  ASSERT_TRUE(file_exists(ckpt + "/model.safetensors.index.json"));
  const auto before = tree(ckpt);
  auto r = run_longctx("model init --config " + config + " --out " + ckpt);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "already holds a model checkpoint folder")) << r.output;
  EXPECT_TRUE(contains(r.output, "--overwrite")) << r.output;
  EXPECT_TRUE(tree(ckpt) == before);
  r = run_longctx("model init --config " + config + " --seed 3 --out " + ckpt + " --overwrite");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(ckpt)) files.insert(e.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{".lock", "config.json", "model.safetensors"}));
  EXPECT_EQ(run_longctx("model info " + ckpt).exit_code, 0);
  // A store is not a checkpoint folder, whatever the flags.
  std::string store = small_store(root + "/store");
  r = run_longctx("model init --config " + config + " --out " + store + " --overwrite");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "is a document store, not a model checkpoint folder")) << r.output;
}

// One row per writing command: the first run writes, the second is refused (naming --overwrite)
// and leaves the output as it was, a third with --overwrite succeeds.
struct Row {
  std::string name, args, output;
};

void check_rows(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    auto r = run_longctx(row.args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_TRUE(fs::exists(row.output)) << row.output;
    const auto before = fs::is_directory(row.output) ? tree(row.output) : std::map<std::string, std::string>{{"", read_all(row.output)}};
    r = run_longctx(row.args);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "--overwrite")) << r.output;
    const auto after = fs::is_directory(row.output) ? tree(row.output) : std::map<std::string, std::string>{{"", read_all(row.output)}};
    EXPECT_TRUE(before == after);
    r = run_longctx(row.args + " --overwrite");
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
}

TEST(SafeOutputs, StoreStatsAndReportWritersNeedOverwrite) {
  std::string d = scratch_dir("adv-rows-1");
  std::string store = small_store(d + "/store"), mix = d + "/mix";
  ASSERT_EQ(run_longctx(mix_args(store, mix)).exit_code, 0);
  check_rows({
      {"store merge", "store merge " + store + " --out " + d + "/merged", d + "/merged"},
      {"stats --json", "stats " + store + " --json " + d + "/s.json", d + "/s.json"},
      {"stats --markdown", "stats " + store + " --markdown " + d + "/s.md", d + "/s.md"},
      {"stats --figure", "stats " + store + " --figure " + d + "/s.svg", d + "/s.svg"},
      {"mix report --json", "mix report " + mix + " --json " + d + "/r.json", d + "/r.json"},
      {"mix report --markdown", "mix report " + mix + " --markdown " + d + "/r.md", d + "/r.md"},
      {"mix report --figure", "mix report " + mix + " --figure " + d + "/r.svg", d + "/r-domains.svg"},
      {"mix compare --markdown", "mix compare " + mix + " " + mix + " --markdown " + d + "/c.md", d + "/c.md"},
      {"mix compare --figure", "mix compare " + mix + " --figure " + d + "/c.png", d + "/c.png"},
      {"mix synth-store", "mix synth-store --tokens 20K --out " + d + "/synth-store", d + "/synth-store"},
  });
}

TEST(SafeOutputs, MixAndExportWritersNeedOverwrite) {
  std::string d = scratch_dir("adv-rows-2");
  std::string store = small_store(d + "/store"), mix = d + "/mix";
  ASSERT_EQ(run_longctx(mix_args(store, d + "/task0") + " --task 0/2").exit_code, 0);
  ASSERT_EQ(run_longctx(mix_args(store, d + "/task1") + " --task 1/2").exit_code, 0);
  check_rows({
      {"mix", mix_args(store, mix), mix},
      {"mix merge", "mix merge " + d + "/task0 " + d + "/task1 --out " + d + "/merged", d + "/merged"},
      {"export megatron", "export " + mix + " --format megatron --out " + d + "/meg", d + "/meg.idx"},
      {"export llmc", "export " + mix + " --format llmc --out " + d + "/llmc", d + "/llmc_000000.bin"},
      {"export jsonl", "export " + mix + " --format jsonl --out " + d + "/rows.jsonl", d + "/rows.jsonl"},
  });
  // The merged mixture equals the single run; --overwrite replaced it with the same bytes.
  auto single = tree(mix), merged = tree(d + "/merged");
  EXPECT_TRUE(single == merged);
}

TEST(SafeOutputs, ModelAndTokenizerWritersNeedOverwrite) {
  std::string d = scratch_dir("adv-rows-3");
  std::string corpus = d + "/corpus";
  testing::write_small_corpus(corpus, 2, 20);
  const std::string config = reference_model() + "/config.json";
  check_rows({
      {"model init", "model init --config " + config + " --out " + d + "/m", d + "/m"},
      {"model forward", "model forward --model " + reference_model() + " --ids 1,2 --out " + d + "/l.npy", d + "/l.npy"},
      {"model export-gguf", "model export-gguf " + reference_model() + " --no-tokenizer --out " + d + "/m.gguf", d + "/m.gguf"},
      {"tokenizer train", "tokenizer train " + corpus + " --vocab-size 300 --max-bytes 200KB --out " + d + "/t.model", d + "/t.model"},
      {"tokenize", "tokenize " + corpus + " --tokenizer " + d + "/t.model --out " + d + "/tok-store", d + "/tok-store"},
      {"corpus synth", "corpus synth --size 1MB --shard-size 1MB --out " + d + "/synth", d + "/synth"},
  });
}

// `corpus sample` takes minutes to build; its refusals come before any work.
TEST(SafeOutputs, CorpusSampleRefusesBeforeAnyWork) {
  std::string d = scratch_dir("adv-sample");
  std::string store = small_store(d + "/store");
  auto r = run_longctx("corpus sample --out " + store + " --overwrite");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "is a document store, not a sample corpus")) << r.output;
  // A SlimPajama copy (train/ without our sample.json) is never emptied, even with --overwrite.
  fs::create_directories(d + "/slimpajama/train/chunk1");
  ASSERT_TRUE(write_file_atomic(d + "/slimpajama/train/chunk1/example_train_0.jsonl", "{\"text\": \"x\"}\n").is_ok());
  r = run_longctx("corpus sample --out " + d + "/slimpajama --overwrite");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "holds 'train', which is not part of a sample corpus")) << r.output;
  EXPECT_TRUE(file_exists(d + "/slimpajama/train/chunk1/example_train_0.jsonl"));
}

// Symbolic links, FIFOs and devices as the output of file-writing commands other than forward.
TEST(SafeOutputs, FileWritersRefuseSpecialFiles) {
  std::string d = scratch_dir("adv-special");
  std::string store = small_store(d + "/store"), mix = d + "/mix";
  ASSERT_EQ(run_longctx(mix_args(store, mix)).exit_code, 0);
  SpecialFiles s = make_special_files(d, ".json");
  for (const std::string& p : {s.fifo, s.link, s.device}) {
    if (p.empty()) continue;
    for (const std::string& args : {"stats " + store + " --json " + p, "mix report " + mix + " --json " + p,
                                    "export " + mix + " --format jsonl --out " + p}) {
      auto r = run_longctx(args + " --overwrite");
      EXPECT_NE(r.exit_code, 0) << args << ": " << r.output;
      EXPECT_TRUE(contains(r.output, "never writes to or replaces")) << r.output;
    }
  }
  expect_untouched(s);
  // A symbolic link as an output directory is refused too (the link is never followed or replaced).
  fs::create_directories(d + "/elsewhere");
  fs::create_directory_symlink(d + "/elsewhere", d + "/out-link");
  auto r = run_longctx("store merge " + store + " --out " + d + "/out-link --overwrite");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "is a symbolic link")) << r.output;
  EXPECT_EQ(path_type(d + "/out-link"), PathType::kSymlink);
  EXPECT_TRUE(fs::is_empty(d + "/elsewhere"));
}

// The evaluation commands: `needle --out` and `loss --out` write folders of their own kinds, and
// `needle compare --out` a figure. Each is refused and left as it was for another kind of data, a
// directory of other files, a link, a device or a FIFO, with or without --overwrite.
struct EvalFixture {
  std::string d, model, hay, store, mix, run, foreign;
};
EvalFixture eval_fixture(const std::string& name) {
  EvalFixture f;
  f.d = scratch_dir(name);
  f.model = tiny_model_with_tokenizer(f.d + "/m");
  f.hay = f.d + "/hay.txt";
  EXPECT_TRUE(write_file_atomic(f.hay, testing::fake_text(1, 6000)).is_ok());
  f.store = small_store(f.d + "/store");
  f.mix = f.d + "/mix";
  EXPECT_EQ(run_longctx(mix_args(f.store, f.mix)).exit_code, 0);
  f.run = f.d + "/train-run";  // a training run directory, as `longctx train` marks it
  fs::create_directories(f.run + "/step-000010");
  EXPECT_TRUE(write_file_atomic(f.run + "/run.json", R"({"format": "longctx-train-run", "version": 1})").is_ok());
  f.foreign = f.d + "/foreign";
  fs::create_directories(f.foreign);
  EXPECT_TRUE(write_file_atomic(f.foreign + "/notes.txt", "mine").is_ok());
  return f;
}

std::string loss_args(const EvalFixture& f, const std::string& out) {
  return "loss --model " + f.model + " --data " + f.store + " --seq-len 64 --max-tokens 512 --threads 1 --out " + out;
}

TEST(SafeOutputs, NeedleSweepFolderIsFoundRefusedOrReplacedByItsSettings) {
  EvalFixture f = eval_fixture("adv-needle");
  const std::string sweep = f.d + "/sweep";
  auto r = run_longctx(needle_args(f.model, f.hay, sweep));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto before = tree(sweep);
  // The same sweep: found, nothing measured or rewritten.
  r = run_longctx(needle_args(f.model, f.hay, sweep));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "already holds this sweep; nothing to do")) << r.output;
  EXPECT_TRUE(tree(sweep) == before);
  // Other settings: refused (naming --overwrite) and unchanged; replaced with --overwrite.
  r = run_longctx(needle_args(f.model, f.hay, sweep) + " --buffer 150");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "already holds a needle sweep folder (finished); pass --overwrite")) << r.output;
  EXPECT_TRUE(tree(sweep) == before);
  r = run_longctx(needle_args(f.model, f.hay, sweep) + " --buffer 150 --overwrite");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(tree(sweep) == before);
  // Never into another kind or a folder of other files, even with --overwrite.
  for (const std::string& target : {f.store, f.mix, f.run, f.foreign, f.model}) {
    SCOPED_TRACE(target);
    const auto was = tree(target);
    r = run_longctx(needle_args(f.model, f.hay, target) + " --overwrite");
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "choose another --out")) << r.output;
    EXPECT_TRUE(tree(target) == was);
  }
  EXPECT_TRUE(contains(run_longctx(needle_args(f.model, f.hay, f.run) + " --overwrite").output,
                       "is a training run directory, not a needle sweep folder"));
  EXPECT_TRUE(contains(run_longctx(needle_args(f.model, f.hay, f.foreign)).output,
                       "holds 'notes.txt', which is not part of a needle sweep folder"));
}

TEST(SafeOutputs, LossAndCompareWritersNeedOverwrite) {
  EvalFixture f = eval_fixture("adv-eval-rows");
  const std::string sweep = f.d + "/sweep";
  ASSERT_EQ(run_longctx(needle_args(f.model, f.hay, sweep)).exit_code, 0);
  check_rows({
      {"needle compare", "needle compare " + sweep + " " + sweep + " --out " + f.d + "/cmp.png", f.d + "/cmp.png"},
      {"loss --out", loss_args(f, f.d + "/loss"), f.d + "/loss"},
      {"loss --baseline --out", loss_args(f, f.d + "/diff") + " --baseline " + f.model, f.d + "/diff"},
  });
  auto files_of = [](const std::string& dir) {
    std::set<std::string> files;
    for (const auto& e : fs::directory_iterator(dir)) files.insert(e.path().filename().string());
    return files;
  };
  EXPECT_EQ(files_of(f.d + "/loss"), (std::set<std::string>{".lock", "loss.json", "loss.md", "position-loss.png", "position-loss.svg"}));
  EXPECT_EQ(files_of(f.d + "/diff"),
            (std::set<std::string>{".lock", "loss.json", "loss.md", "position-loss.png", "position-loss.svg", "baseline.json",
                                   "difference.json", "difference.md", "difference.png", "difference.svg"}));
  for (const std::string& target : {f.store, f.mix, f.run, f.foreign, sweep}) {
    SCOPED_TRACE(target);
    const auto was = tree(target);
    auto r = run_longctx(loss_args(f, target) + " --overwrite");
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "choose another --out")) << r.output;
    EXPECT_TRUE(tree(target) == was);
  }
  auto r = run_longctx(loss_args(f, sweep) + " --overwrite");
  EXPECT_TRUE(contains(r.output, "is a needle sweep folder, not a loss evaluation folder")) << r.output;
  // A figure never replaces a file that is not one, whatever its name, nor a sweep folder.
  ASSERT_TRUE(write_file_atomic(f.d + "/precious.png", "not an image").is_ok());
  r = run_longctx("needle compare " + sweep + " --out " + f.d + "/precious.png --overwrite");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "exists and is not a figure (PNG or SVG)")) << r.output;
  EXPECT_EQ(read_all(f.d + "/precious.png"), "not an image");
  fs::create_directories(f.d + "/sweep.png");
  r = run_longctx("needle compare " + sweep + " --out " + f.d + "/sweep.png --overwrite");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "is a directory, not a figure")) << r.output;
}

TEST(SafeOutputs, EvaluationWritersRefuseSpecialFiles) {
  EvalFixture f = eval_fixture("adv-eval-special");
  const std::string sweep = f.d + "/sweep";
  ASSERT_EQ(run_longctx(needle_args(f.model, f.hay, sweep)).exit_code, 0);
  fs::create_directories(f.d + "/elsewhere");
  fs::create_directory_symlink(f.d + "/elsewhere", f.d + "/dir-link");
  for (const char* ext : {"", ".png"}) {
    SpecialFiles s = make_special_files(f.d, ext);
    std::vector<std::string> targets = {s.fifo, s.link, s.device};
    if (std::string(ext).empty()) targets.push_back(f.d + "/dir-link");
    for (const std::string& p : targets) {
      if (p.empty()) continue;
      for (const std::string& args : std::string(ext).empty()
                                         ? std::vector<std::string>{needle_args(f.model, f.hay, p), loss_args(f, p)}
                                         : std::vector<std::string>{"needle compare " + sweep + " --out " + p}) {
        auto r = run_longctx(args + " --overwrite");
        EXPECT_NE(r.exit_code, 0) << args << ": " << r.output;
        EXPECT_TRUE(contains(r.output, "never writes to or replaces")) << r.output;
      }
    }
    expect_untouched(s);
  }
  EXPECT_EQ(path_type(f.d + "/dir-link"), PathType::kSymlink);
  EXPECT_TRUE(fs::is_empty(f.d + "/elsewhere"));
}

}  // namespace
}  // namespace longctx::adversarial
