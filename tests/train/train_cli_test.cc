// `longctx train` through the program: kill -9 and rerun ends with the same bytes, mpirun -np 2
// against one process and against itself, the RoPE settings written to config.json and used by
// `model forward` and `generate`, Megatron input, the sample mixture, and every refusal with its
// message.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/file_io.h"
#include "model/checkpoint.h"
#include "model/model.h"
#include "train_fixture.h"

namespace longctx {
namespace {

using testing::read_all;
using testing::run_command;
using testing::run_longctx;
using testing::scratch_dir;
using testing::write_mixture;
using testing::write_tiny_config;

std::string bin() { return LONGCTX_BINARY; }

std::vector<float> weights_of(const std::string& dir) {
  auto m = model::load_checkpoint(dir);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  if (!m.is_ok()) return {};
  return std::vector<float>(m->params(), m->params() + m->num_params());
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

bool list_dir_empty_of_checkpoints(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("step-", 0) == 0) return false;
  return true;
}

TEST(TrainCli, KillNineMidwayThenRerunGivesTheSameBytes) {
  const std::string root = scratch_dir("kill9");
  const std::string data = write_mixture(root + "/mix", 32, 64);
  const std::string cfg = write_tiny_config(root);
  const std::string args = " train --init " + cfg + " --data " + data +
                           " --steps 40 --batch-tokens 256 --save-every 4 --keep-last 2 --threads 1 --seed 3 --out ";
  auto ref = run_longctx(args + root + "/ref");
  ASSERT_EQ(ref.exit_code, 0) << ref.output;
  // The same command, killed with SIGKILL once its second checkpoint exists.
  const std::string out = root + "/killed";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string cmd = bin() + " -q" + args + out;
    execl("/bin/sh", "sh", "-c", ("exec " + cmd + " >/dev/null 2>&1").c_str(), (char*)nullptr);
    _exit(127);
  }
  const auto t0 = std::chrono::steady_clock::now();
  while (!std::filesystem::exists(out + "/step-000008") && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ::kill(pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st)) << "the run ended before it could be killed";
  ASSERT_FALSE(std::filesystem::exists(out + "/summary.json"));
  auto again = run_longctx(args + out);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(read_all(root + "/ref/step-000040/model.safetensors"), read_all(out + "/step-000040/model.safetensors"));
  EXPECT_EQ(read_all(root + "/ref/step-000040/optimizer.bin"), read_all(out + "/step-000040/optimizer.bin"));
  // --keep-last 2
  EXPECT_FALSE(std::filesystem::exists(out + "/step-000032"));
  EXPECT_TRUE(std::filesystem::exists(out + "/step-000036"));
}

#ifdef LONGCTX_MPIRUN
TEST(TrainCli, MpiTwoRanksEqualOneProcessAndRepeatBitForBit) {
  const std::string root = scratch_dir("mpi");
  const std::string data = write_mixture(root + "/mix", 32, 32);
  const std::string cfg = write_tiny_config(root);
  // 4 micro-batches of one sequence per step: 2 per rank with 2 ranks, 4 in one process
  const std::string args = " train --init " + cfg + " --data " + data + " --steps 3 --batch-tokens 128 --threads 1 --lr 1e-3 --out ";
  const std::string mpi = std::string(LONGCTX_MPIRUN) + " --allow-run-as-root --oversubscribe -np 2 " + bin() + " -q";
  auto a = run_command(mpi + args + root + "/a");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  auto b = run_command(mpi + args + root + "/b");
  ASSERT_EQ(b.exit_code, 0) << b.output;
  auto one = run_longctx(args + root + "/one");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_EQ(read_all(root + "/a/step-000003/model.safetensors"), read_all(root + "/b/step-000003/model.safetensors"));
  EXPECT_EQ(read_all(root + "/a/step-000003/optimizer.bin"), read_all(root + "/b/step-000003/optimizer.bin"));
  // against one process: the same micro-batches, summed in another order (float): 1e-5
  const auto x = weights_of(root + "/a/step-000003"), y = weights_of(root + "/one/step-000003");
  ASSERT_EQ(x.size(), y.size());
  double worst = 0;
  for (size_t i = 0; i < x.size(); i++) worst = std::max(worst, (double)std::fabs(x[i] - y[i]));
  std::printf("largest weight difference, 2 ranks vs 1 process: %.3g\n", worst);
  EXPECT_LT(worst, 1e-5);
}
#else
TEST(TrainCli, MpiTwoRanksEqualOneProcessAndRepeatBitForBit) {
  GTEST_SKIP() << "mpirun was not found when this was built (scripts/setup.sh installs openmpi-bin)";
}
#endif

// A .npy float32 file's data (header up to its newline).
std::vector<float> read_npy(const std::string& path) {
  const std::string s = read_all(path);
  const size_t nl = s.find('\n');
  std::vector<float> v((s.size() - nl - 1) / 4);
  std::memcpy(v.data(), s.data() + nl + 1, v.size() * 4);
  return v;
}

TEST(TrainCli, RopeSettingsAreSavedAndUsedByForwardAndGenerate) {
  const std::string root = scratch_dir("rope");
  const std::string data = write_mixture(root + "/mix", 4, 128);
  const std::string cfg = write_tiny_config(root);  // max_position_embeddings 64
  // weights large enough (std 0.3) that the positions matter to the logits
  const std::string base = " train --init " + cfg + " --data " + data + " --steps 1 --batch-tokens 128 --threads 1 --init-std 0.3";
  auto refused = run_longctx(base + " --out " + root + "/r0");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(contains(refused.output,
                       "sequence length 128 is beyond what the model's RoPE settings allow: max_position_embeddings 64, "
                       "rope_theta 10000, rope_scaling default reach 64 positions; raise it with --rope-theta (e.g. 500000) "
                       "or --rope-scaling (e.g. dynamic:2)"))
      << refused.output;
  auto theta = run_longctx(base + " --rope-theta 500000 --out " + root + "/theta");
  ASSERT_EQ(theta.exit_code, 0) << theta.output;
  auto j = nlohmann::json::parse(read_all(root + "/theta/step-000001/config.json"));
  EXPECT_EQ(j["rope_theta"].get<double>(), 500000.0);
  EXPECT_EQ(j["max_position_embeddings"].get<int64_t>(), 128);
  auto dyn = run_longctx(base + " --rope-scaling dynamic:2 --out " + root + "/dyn");
  ASSERT_EQ(dyn.exit_code, 0) << dyn.output;
  auto k = nlohmann::json::parse(read_all(root + "/dyn/step-000001/config.json"));
  EXPECT_EQ(k["rope_scaling"]["type"], "dynamic");
  EXPECT_EQ(k["rope_scaling"]["factor"].get<double>(), 2.0);
  EXPECT_EQ(k["max_position_embeddings"].get<int64_t>(), 64);
  // model forward runs the saved theta: its logits equal a forward with rope_theta 500000 and differ
  // from the same weights with the old base
  const std::string ck = root + "/theta/step-000001";
  std::string ids;
  for (int i = 0; i < 100; i++) ids += (i ? "," : "") + std::to_string((i * 7) % 64);
  auto fw = run_longctx("model forward --model " + ck + " --ids " + ids + " --out " + root + "/l.npy --threads 1");
  ASSERT_EQ(fw.exit_code, 0) << fw.output;
  const std::vector<float> got = read_npy(root + "/l.npy");
  auto m = model::load_checkpoint(ck);
  ASSERT_TRUE(m.is_ok());
  std::vector<int32_t> in;
  for (int i = 0; i < 100; i++) in.push_back((i * 7) % 64);
  auto logits_with = [&](double th) {
    model::LlamaConfig c = m->config();
    c.rope_theta = th;
    auto mm = model::LlamaModel::create(c);
    std::memcpy(mm->params(), m->params(), 4 * (size_t)m->num_params());
    auto s = model::ScoreSession::create(*mm);
    std::vector<float> out((size_t)100 * 64);
    model::Batch b{in.data(), nullptr, nullptr, 1, 100};
    EXPECT_TRUE(s->logits(b, out.data()).is_ok());
    return out;
  };
  const std::vector<float> want = logits_with(500000), old = logits_with(10000);
  ASSERT_EQ(got.size(), want.size());
  double d_new = 0, d_old = 0;
  for (size_t i = 0; i < got.size(); i++) d_new = std::max(d_new, (double)std::fabs(got[i] - want[i])), d_old = std::max(d_old, (double)std::fabs(got[i] - old[i]));
  std::printf("largest logit difference: saved theta %.3g, old theta %.3g\n", d_new, d_old);
  EXPECT_LT(d_new, 1e-5);
  EXPECT_GT(d_old, 1e-2);
  // generate: 100 prompt + 20 new tokens fit the new 128 positions, not the old 64
  auto gen = run_longctx("generate --model " + ck + " --prompt-ids " + ids + " --max-new-tokens 20 --print-ids --ignore-eos --threads 1");
  EXPECT_EQ(gen.exit_code, 0) << gen.output;
  auto init_model = root + "/init";
  ASSERT_EQ(run_longctx("model init --config " + cfg + " --out " + init_model).exit_code, 0);
  auto gen_old = run_longctx("generate --model " + init_model + " --prompt-ids " + ids + " --max-new-tokens 20 --print-ids --threads 1");
  EXPECT_EQ(gen_old.exit_code, 1) << gen_old.output;
}

TEST(TrainCli, MegatronInput) {
  const std::string root = scratch_dir("megatron");
  const std::string data = write_mixture(root + "/mix", 8, 32);
  ASSERT_EQ(run_longctx("export " + data + " --format megatron --out " + root + "/meg").exit_code, 0);
  const std::string cfg = write_tiny_config(root);
  auto no_len = run_longctx("train --init " + cfg + " --data " + root + "/meg --steps 2 --out " + root + "/r0");
  EXPECT_EQ(no_len.exit_code, 1);
  EXPECT_TRUE(contains(no_len.output, "is a Megatron dataset (a token stream): give --seq-len")) << no_len.output;
  auto r = run_longctx("train --init " + cfg + " --data " + root + "/meg.idx --seq-len 32 --steps 2 --batch-tokens 64 --threads 1 --out " +
                       root + "/r1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(file_exists(root + "/r1/step-000002/model.safetensors"));
}

TEST(TrainCli, LossFallsOnTheSampleMixture) {
  // The project's own pipeline end to end: corpus -> tokenizer -> store -> mixture -> training.
  const std::string root = scratch_dir("sample");
  testing::write_small_corpus(root + "/corpus", 2, 20);
  const std::string tok = testing::tiny_tokenizer();
  ASSERT_EQ(run_longctx("tokenize " + root + "/corpus/train --tokenizer " + tok + " --out " + root + "/store").exit_code, 0);
  auto mix = run_longctx("mix " + root + "/store --strategy natural --tokens 64K --seq-len 128 --seed 1 --out " + root + "/mix");
  ASSERT_EQ(mix.exit_code, 0) << mix.output;
  const std::string cfg = write_tiny_config(root, 400, 128);
  auto r = run_longctx("train --init " + cfg + " --data " + root + "/mix --steps 40 --batch-tokens 512 --lr 3e-3 --val-share 0.05 --threads 1 --out " +
                       root + "/run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<double> loss;
  double val = -1;
  std::istringstream in(read_all(root + "/run/metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) {
      loss.push_back(j["loss"].get<double>());
      EXPECT_TRUE(j.contains("domain_loss") && j.contains("tokens_per_s") && j.contains("utilisation"));
    }
    if (j.contains("val_loss")) val = j["val_loss"].get<double>();
  }
  ASSERT_EQ(loss.size(), 40u);
  // from ln 400 = 6.0 nats: the last five steps average at least 1.5 nats below the first
  const double last5 = (loss[35] + loss[36] + loss[37] + loss[38] + loss[39]) / 5;
  std::printf("first loss %.3f, last five %.3f, validation %.3f\n", loss[0], last5, val);
  EXPECT_LT(last5, loss[0] - 1.5);
  EXPECT_GT(val, 0);
  EXPECT_LT(val, loss[0] - 1.0);
  EXPECT_TRUE(file_exists(root + "/run/val-loss.png"));
  EXPECT_TRUE(file_exists(root + "/run/step-000040/tokenizer.model") == false);  // no --tokenizer given
}

// ---- refusals -----------------------------------------------------------------------------------

TEST(TrainCli, DataModelMismatchesAreRefusedBeforeTheFirstStep) {
  const std::string root = scratch_dir("mismatch");
  const std::string cfg = write_tiny_config(root);
  const std::string base = "train --init " + cfg + " --steps 1 --batch-tokens 32 --data ";
  auto vocab = run_longctx(base + write_mixture(root + "/v", 2, 32, 64, 1, false, -1, 100) + " --out " + root + "/r1");
  EXPECT_EQ(vocab.exit_code, 1);
  EXPECT_TRUE(contains(vocab.output, "was tokenized with a vocabulary of 100 ids, the model has 64: the data does not fit the model")) << vocab.output;
  auto id = run_longctx(base + write_mixture(root + "/i", 2, 32, 64, 1, false, 70) + " --out " + root + "/r2");
  EXPECT_EQ(id.exit_code, 1);
  EXPECT_TRUE(contains(id.output, "shard-00000.lcpk' chunk 0 position 1: token id 70 is not below the model's vocabulary size 64")) << id.output;
  auto len = run_longctx(base + write_mixture(root + "/l", 2, 32) + " --seq-len 48 --out " + root + "/r3");
  EXPECT_EQ(len.exit_code, 1);
  EXPECT_TRUE(contains(len.output, "--seq-len 48 is beyond the data: '" + root + "/l' holds chunks of 32 tokens")) << len.output;
  for (const char* r : {"/r1", "/r2", "/r3"}) EXPECT_FALSE(file_exists(root + r + "/metrics.jsonl")) << r;
}

TEST(TrainCli, AnotherRunInOutIsRefusedUnlessResumeOrOverwrite) {
  const std::string root = scratch_dir("other");
  const std::string data = write_mixture(root + "/mix", 4, 32);
  const std::string base = "train --init " + write_tiny_config(root) + " --data " + data + " --steps 1 --batch-tokens 32 --threads 1 --out " + root + "/run";
  ASSERT_EQ(run_longctx(base + " --lr 1e-3").exit_code, 0);
  auto other = run_longctx(base + " --lr 2e-3");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_TRUE(contains(other.output, "--out '" + root + "/run' holds another training run (lr 0.001 (recorded) vs 0.002 (now)); "
                                     "continue it with `longctx train --resume " + root + "/run`, replace it with --overwrite, or choose another --out"))
      << other.output;
  auto resume = run_longctx("train --resume " + root + "/run");
  EXPECT_EQ(resume.exit_code, 0) << resume.output;
  EXPECT_TRUE(contains(resume.output, "finished before (step 1)")) << resume.output;
  auto over = run_longctx(base + " --lr 2e-3 --overwrite");
  EXPECT_EQ(over.exit_code, 0) << over.output;
  auto j = nlohmann::json::parse(read_all(root + "/run/run.json"));
  EXPECT_EQ(j["config"]["lr"].get<double>(), 2e-3);
  // a directory of another kind is never used
  auto mixdir = run_longctx("train --init " + write_tiny_config(root) + " --data " + data + " --steps 1 --out " + data);
  EXPECT_EQ(mixdir.exit_code, 1);
  EXPECT_TRUE(contains(mixdir.output, "is not a training run directory (it holds")) << mixdir.output;
  EXPECT_TRUE(file_exists(data + "/manifest.json"));
}

TEST(TrainCli, NanLossStopsNamingTheStep) {
  const std::string root = scratch_dir("nanloss");
  const std::string cfg = write_tiny_config(root);
  auto m = model::LlamaModel::create(testing::tiny_config());
  ASSERT_TRUE(m.is_ok());
  model::init_params(m->config(), 1, 0.02f, m->params());
  m->params()[m->layout().lnf] = std::nanf("");  // the final norm's first weight
  ASSERT_TRUE(model::save_checkpoint(*m, root + "/bad", {}).is_ok());
  auto r = run_longctx("train --model " + root + "/bad --data " + write_mixture(root + "/mix", 2, 32) +
                       " --steps 2 --batch-tokens 32 --out " + root + "/run");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "step 1: the loss is nan; stopped without updating the weights. The last good checkpoint is none"))
      << r.output;
  EXPECT_TRUE(list_dir_empty_of_checkpoints(root + "/run"));
}

TEST(TrainCli, FullDiskNeverLeavesACheckpointThatLooksComplete) {
  // A 40 KB file-size limit (ulimit -f, with SIGXFSZ ignored so writes fail with EFBIG): the
  // 90 KB model.safetensors cannot be written.
  const std::string root = scratch_dir("full");
  const std::string cmd = "ulimit -f 40; trap '' XFSZ; exec " + bin() + " -q train --init " + write_tiny_config(root) +
                          " --data " + write_mixture(root + "/mix", 4, 32) + " --steps 2 --save-every 1 --batch-tokens 32 --out " +
                          root + "/run";
  auto r = run_command("bash -c \"" + cmd + "\"");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "saving the checkpoint of step 1")) << r.output;
  for (const auto& e : std::filesystem::directory_iterator(root + "/run"))
    EXPECT_EQ(e.path().filename().string().rfind("step-", 0), std::string::npos) << e.path();
}

TEST(TrainCli, FlagsAreCheckedBeforeAnyWork) {
  const std::string base = "train --init missing.json --data missing --out /nonexistent/run";
  struct Case {
    std::string flags, message;
  } cases[] = {
      {" --lr nan", "--lr: expected a number in [0, 10], got nan"},
      {" --lr -1e-3", "--lr: expected a number in [0, 10], got -0.001"},
      {" --warmup -1", "--warmup: expected an integer in [0, 1099511627776], got -1"},
      {" --beta2 1", "--beta2: expected a number in [0, 0.999999999], got 1"},
      {" --eps 0", "--eps: expected a number in [1e-30, 1], got 0"},
      {" --grad-clip inf", "--grad-clip: expected a number in [0, 1000000], got inf"},
      {" --val-share 0.9", "--val-share: expected a number in [0, 0.5], got 0.9"},
      {" --micro-batch 0", "--micro-batch: expected an integer in [1, 65536], got 0"},
      {" --rope-scaling dynamic:0.5", "--rope-scaling factor: expected a number in [1, 1048576], got 0.5"},
      {" --rope-scaling ntk:2", "--rope-scaling: expected none, linear:F, dynamic:F, yarn:F[,ORIG] or llama3:F[,ORIG[,LOW,HIGH]], got 'ntk:2'"},
      {" --schedule step", "--schedule: expected constant, cosine or linear, got 'step'"},
      {" --steps 3 --tokens 5M", "--steps and --tokens exclude each other"},
      {" --model m", "give exactly one of --model DIR (continue a checkpoint) and --init config.json (from scratch)"},
      {" --seq-len 0", "--seq-len"},
  };
  for (const Case& c : cases) {
    auto r = run_longctx(base + c.flags);
    EXPECT_EQ(r.exit_code, 2) << c.flags << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, c.message)) << c.flags << "\n" << r.output;
  }
  auto help = run_longctx("train --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.output, "constant lr 2e-5")) << help.output;
}

}  // namespace
}  // namespace longctx
