// The longctx program as a user meets it: `--help` of every command at every depth shows its own
// example; every numeric flag is range-checked before any work, with the range in the message;
// unknown flags and commands are named (with a "did you mean"); exit codes are 0 (ok), 1 (the
// command failed) and 2 (the command line is wrong). Expected messages are written out by hand.
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "cli/app.h"
#include "cli/command.h"
#include "model/checkpoint.h"
#include "test_util.h"

using namespace longctx;
using longctx::testing::run_longctx;
using longctx::testing::scratch_dir;

namespace {

// Every command path below the top ("corpus", "corpus sample", ..., "mix report", ...).
void walk(CLI::App* app, const std::string& prefix, const std::function<void(CLI::App*, const std::string&)>& visit) {
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) {
    const std::string path = prefix.empty() ? sub->get_name() : prefix + " " + sub->get_name();
    visit(sub, path);
    walk(sub, path, visit);
  }
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t e = s.find('\n', pos);
    if (e == std::string::npos) e = s.size();
    out.push_back(s.substr(pos, e - pos));
    pos = e + 1;
  }
  return out;
}

// True when the help has an "Example:" or "Examples:" line followed by an invocation of `path`
// itself: "longctx PATH" then a space or the end of the line.
bool has_own_example(const std::string& help, const std::string& path) {
  const std::string inv = "longctx" + (path.empty() ? "" : " " + path);
  auto ls = lines_of(help);
  for (size_t i = 0; i < ls.size(); ++i) {
    if (ls[i] != "Example:" && ls[i] != "Examples:") continue;
    for (size_t j = i + 1; j < ls.size() && ls[j].rfind("  ", 0) == 0; ++j) {
      std::string l = ls[j].substr(ls[j].find_first_not_of(' '));
      if (l.rfind(inv, 0) == 0 && (l.size() == inv.size() || l[inv.size()] == ' ')) return true;
    }
  }
  return false;
}

TEST(Help, EveryCommandAtEveryDepthShowsItsOwnExample) {
  auto app = cli::make_app();
  std::vector<std::string> paths = {""};
  walk(app.get(), "", [&](CLI::App*, const std::string& p) { paths.push_back(p); });
  // The tree as it stands: a new command is walked too, and must come with its example.
  EXPECT_GE(paths.size(), 25u);
  for (const char* want : {"mix report", "mix compare", "mix synth-store", "mix merge", "model export-gguf", "store verify",
                           "tokenizer decode", "corpus synth", "generate", "inspect", "train", "train plot", "needle",
                           "needle compare", "loss", "serve", "reproduce", "report"})
    EXPECT_NE(std::find(paths.begin(), paths.end(), want), paths.end()) << want;
  for (const auto& p : paths) {
    auto r = run_longctx(p + " --help");
    EXPECT_EQ(r.exit_code, 0) << "longctx " << p << " --help\n" << r.output;
    EXPECT_TRUE(has_own_example(r.output, p)) << "longctx " << p << " --help has no example of its own:\n" << r.output;
  }
}

TEST(Help, ExampleCheckerRejectsAParentsExample) {
  EXPECT_TRUE(has_own_example("x\nExample:\n  longctx mix report d\n", "mix report"));
  EXPECT_FALSE(has_own_example("x\nExample:\n  longctx mix d --tokens 1B\n", "mix report"));
  EXPECT_FALSE(has_own_example("x\nExample:\n  longctx mixture d\n", "mix"));
  EXPECT_FALSE(has_own_example("longctx mix d\n", "mix"));  // not under an Example line
}

// The README's invocations: every `longctx ...` line of its code blocks and every command of its
// subcommand table names a real command and only flags that command has, so the README cannot
// drift from --help (the examples there are checked by the test above).
std::vector<std::string> readme_invocations() {
  std::string text;
  {
    std::ifstream f(std::string(LONGCTX_SOURCE_DIR) + "/README.md");
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  std::vector<std::string> out;
  bool code = false;
  std::string joined, section;
  for (std::string line : lines_of(text)) {
    if (!code && line.rfind("## ", 0) == 0) section = line;
    if (line.rfind("```", 0) == 0) {
      code = !code;
      continue;
    }
    if (code) {
      if (auto hash = line.find(" #"); hash != std::string::npos) line.resize(hash);
      joined += line;
      if (!joined.empty() && joined.back() == '\\') {  // a continued line
        joined.pop_back();
        continue;
      }
      if (auto at = joined.find("longctx "); at != std::string::npos && joined.find("alias") == std::string::npos)
        out.push_back(joined.substr(at));
      joined.clear();
    } else if (section == "## Subcommands" && line.rfind("| `", 0) == 0) {  // `cmd ...` spans of the first cell
      const std::string cell = line.substr(2, line.find(" |", 2) - 2);
      for (size_t b = cell.find('`'); b != std::string::npos; b = cell.find('`', cell.find('`', b + 1) + 1)) {
        const size_t e = cell.find('`', b + 1);
        if (e == std::string::npos) break;
        out.push_back("longctx " + cell.substr(b + 1, e - b - 1));
      }
    }
  }
  return out;
}

TEST(Help, ReadmeInvocationsUseRealCommandsAndTheirFlags) {
  auto app = cli::make_app();
  const auto invocations = readme_invocations();
  EXPECT_GE(invocations.size(), 50u);
  std::set<std::string> commands;
  for (const std::string& inv : invocations) {
    std::istringstream words(inv.substr(std::string("longctx ").size()));
    std::vector<std::string> toks;
    for (std::string w; words >> w;) toks.push_back(w);
    CLI::App* cmd = app.get();
    std::string path;
    size_t i = 0;
    for (; i < toks.size(); ++i) {
      if (toks[i] == "-q") continue;
      CLI::App* sub = nullptr;
      try {
        sub = cmd->get_subcommand(toks[i]);
      } catch (const CLI::OptionNotFound&) {
        break;
      }
      cmd = sub;
      path += (path.empty() ? "" : " ") + toks[i];
    }
    EXPECT_FALSE(path.empty()) << "not a command: " << inv;
    commands.insert(path);
    for (; i < toks.size(); ++i) {
      // "[--figure", "DIR|--init", "megatron\\|llmc": every part that is a long flag
      std::string t = toks[i];
      for (char& c : t) if (c == '[' || c == ']' || c == '\\') c = '|';
      std::istringstream parts(t);
      for (std::string p; std::getline(parts, p, '|');) {
        if (p.rfind("--", 0) != 0 || p == "--help") continue;
        p = p.substr(0, p.find('='));
        EXPECT_NE(cmd->get_option_no_throw(p), nullptr) << "'longctx " << path << "' has no " << p << ": " << inv;
      }
    }
  }
  for (const char* want : {"needle", "needle compare", "loss", "serve", "train", "train plot", "reproduce", "report"})
    EXPECT_TRUE(commands.count(want)) << "the README shows no example of longctx " << want;
}

TEST(Validation, EveryNumericOptionHasStrictSyntax) {
  // Numbers reach a command only through cli/command.h add_number (no "-1" wrapping to 2^64 - 1,
  // no octal, no silent overflow); a flag added with plain add_option fails here.
  auto app = cli::make_app();
  int numeric = 0;
  walk(app.get(), "", [&](CLI::App* cmd, const std::string& path) {
    for (CLI::Option* o : cmd->get_options()) {
      const std::string t = o->get_type_name();
      if (t.rfind("INT", 0) != 0 && t.rfind("UINT", 0) != 0 && t.rfind("FLOAT", 0) != 0) continue;
      ++numeric;
      EXPECT_NO_THROW(o->get_validator(cli::kStrictNumber)) << "longctx " << path << " " << o->get_name();
    }
  });
  EXPECT_GE(numeric, 30);
}

struct Case {
  std::string args, message;
};

void expect_usage_error(const Case& c) {
  auto r = run_longctx(c.args);
  EXPECT_EQ(r.exit_code, 2) << "longctx " << c.args << "\n" << r.output;
  EXPECT_NE(r.output.find("longctx: error: " + c.message), std::string::npos) << "longctx " << c.args << "\n" << r.output;
}

// The store does not exist: every flag is checked before any work, so the flag is what fails.
const std::string kMix = "mix /nonexistent/store --tokens 1M --seq-len 1K --plan-only";

TEST(Validation, MixFlagsRejectedBeforeAnyWork) {
  for (const Case& c : std::vector<Case>{
           {kMix + " --long-share nan", "--long-share: expected a number in [0, 1], got nan"},
           {kMix + " --long-share inf", "--long-share: expected a number in [0, 1], got inf"},
           {kMix + " --long-share -0.5", "--long-share: expected a number in [0, 1], got -0.5"},
           {kMix + " --weight 2", "--weight: expected a number in [0, 1], got 2"},
           {kMix + " --keep-short 1.5", "--keep-short: expected a number in [0, 1], got 1.5"},
           {kMix + " --chars-per-token -inf", "--chars-per-token: expected a number in [0, 1024], got -inf"},
           {kMix + " --chars-per-token 1e999", "--chars-per-token: expected a number in [0, 1024], got inf"},
           {kMix + " --domain-shares A=0.5,B=0.4", "--domain-shares: the shares sum to 0.9, expected 1 (within 1e-06)"},
           {kMix + " --domain-shares A=1.5,B=-0.5", "--domain-shares (A): expected a number in [0, 1], got 1.5"},
           {kMix + " --domain-shares A=nan", "--domain-shares (A): expected a number in [0, 1], got nan"},
           {kMix + " --domain-shares A=x", "--domain-shares: 'x' is not a number"},
           {kMix + " --seed -1", "--seed: expected an integer in [0, 18446744073709551615], got '-1'"},
           {kMix + " --seed 18446744073709551616", "--seed: expected an integer in [0, 18446744073709551615], got '18446744073709551616'"},
           {kMix + " --at 0x10", "--at: expected an integer in [0, 18446744073709551615], got '0x10'"},
           {kMix + " --at 0 --strategy cut", "--at: expected an integer in [1, 4294967295], got 0"},
           {kMix + " --threads -3", "--threads: expected an integer in [0, 1024], got -3"},
           {kMix + " --threads 100000", "--threads: expected an integer in [0, 1024], got 100000"},
           {kMix + " --pad-id -2", "--pad-id: expected an integer in [0, 4294967295], got -2"},
           {kMix + " --bos-id 4294967296", "--bos-id: expected an integer in [-1, 4294967295], got 4294967296"},
           {kMix + " --task 4/4", "--task '4/4': expected 0 <= i < N"},
           {kMix + " --task -1/4", "--task '-1/4': expected i/N, e.g. 0/4"},
           {kMix + " --shard-tokens 0", "--shard-tokens: expected an integer in [1, 1000000000000000], got 0"},
           {"mix /nonexistent/store --tokens 2000T --seq-len 1K", "--tokens: expected an integer in [1, 1000000000000000], got 2000000000000000"},
           {"mix /nonexistent/store --tokens 1M --seq-len 32M", "--seq-len: expected an integer in [1, 16777216], got 33554432"},
           {"mix /nonexistent/store --tokens 1M", "--out is required (unless --plan-only)"},
       })
    expect_usage_error(c);
}

TEST(Validation, OtherCommandsFlagsRejected) {
  for (const Case& c : std::vector<Case>{
           {"corpus synth --out /nonexistent/x --bytes-per-token 0", "--bytes-per-token: expected a number in [0.5, 64], got 0"},
           {"corpus synth --out /nonexistent/x --size 0", "--size: expected an integer in [1, 1000000000000000], got 0"},
           {"corpus synth --out /nonexistent/x --threads -1", "--threads: expected an integer in [0, 1024], got -1"},
           {"corpus sample --out /nonexistent/x --holdout nan", "--holdout: expected a number in [0, 1], got nan"},
           {"corpus sample --out /nonexistent/x --shards 0", "--shards: expected an integer in [1, 4096], got 0"},
           {"tokenizer train /nonexistent --vocab-size 0", "--vocab-size: expected an integer in [16, 16777216], got 0"},
           {"tokenizer train /nonexistent --vocab-size -5", "--vocab-size: expected an integer in [0, 4294967295], got '-5'"},
           {"tokenizer decode --tokenizer /nonexistent --ids 1,-2", "--ids: '-2' is not a token id (expected an integer in [0, 4294967295])"},
           {"tokenize /nonexistent --tokenizer t --out o --max-record-bytes 0", "--max-record-bytes: expected an integer in [1, 4294967296], got 0"},
           {"tokenize /nonexistent --tokenizer t --out o --tokenizer-impl nope", "unknown tokenizer implementation"},
           {"stats /nonexistent --threshold 5000000000", "--threshold: expected an integer in [0, 4294967295], got 5000000000"},
           {"stats /nonexistent --threshold 4096,-1", "--threshold: expected an integer in [0, 18446744073709551615], got '-1'"},
           {"mix synth-store --out /nonexistent/x --tokens 0", "--tokens: expected an integer in [1, 1000000000000000], got 0"},
           {"inspect /nonexistent --count -1", "--count: expected an integer in [0, 18446744073709551615], got '-1'"},
           {"model init --config /dev/null --out /nonexistent/m --std nan", "--std: expected a number in [0, 10], got nan"},
           {"model forward --model m --ids 1,x --out o.npy", "--ids: 'x' is not a token id (expected an integer in [0, 2147483647])"},
           {"generate --model /nonexistent --prompt-ids 1 --temperature inf", "--temperature: expected a number in [0, 100], got inf"},
           {"generate --model /nonexistent --prompt-ids 1 --temperature -1", "--temperature: expected a number in [0, 100], got -1"},
           {"generate --model /nonexistent --prompt-ids 1 --top-p nan", "--top-p: expected a number in [0, 1], got nan"},
           {"generate --model /nonexistent --prompt-ids 1 --top-p 1.5", "--top-p: expected a number in [0, 1], got 1.5"},
           {"generate --model /nonexistent --prompt-ids 1 --max-new-tokens -1", "--max-new-tokens: expected an integer in [0, 2147483647], got -1"},
           {"generate --model /nonexistent --prompt-ids 1 --prefill-chunk 0", "--prefill-chunk: expected an integer in [1, 2147483647], got 0"},
           {"generate --model /nonexistent --prompt-ids 1 --seed -1", "--seed: expected an integer in [0, 18446744073709551615], got '-1'"},
           {"generate --model /nonexistent", "give --prompt TEXT or --prompt-ids 1,2,3"},
       })
    expect_usage_error(c);
}

// The evaluation commands: every numeric flag (and the lengths, depths and buckets lists) is
// checked before any model, data or server is touched (none of the paths exist).
TEST(Validation, EvaluationFlagsRejectedBeforeAnyWork) {
  const std::string needle = "needle --model /nonexistent/m --out /nonexistent/x";
  const std::string remote = "needle --endpoint http://127.0.0.1:9 --model-name m --out /nonexistent/x";
  const std::string compare = "needle compare /nonexistent/a --out /nonexistent/c.png";
  const std::string loss = "loss --model /nonexistent/m --data /nonexistent/d";
  const std::string serve = "serve --model /nonexistent/m";
  for (const Case& c : std::vector<Case>{
           {remote + " --timeout nan", "--timeout: expected a number in [0.001, 86400], got nan"},
           {remote + " --timeout 0", "--timeout: expected a number in [0.001, 86400], got 0"},
           {remote + " --backoff inf", "--backoff: expected a number in [0, 60], got inf"},
           {remote + " --backoff -1", "--backoff: expected a number in [0, 60], got -1"},
           {remote + " --retries 101", "--retries: expected an integer in [0, 100], got 101"},
           {remote + " --concurrency 0", "--concurrency: expected an integer in [1, 256], got 0"},
           {remote + " --context-length -1", "--context-length: expected an integer in [0, 2147483648], got -1"},
           {"needle --endpoint ftp://h --model-name m --out x", "--endpoint 'ftp://h': expected http://HOST:PORT"},
           {"needle --endpoint http://h --out x", "--endpoint needs --model-name"},
           {needle + " --threads -1", "--threads: expected an integer in [0, 1024], got -1"},
           {needle + " --prefill-chunk 0", "--prefill-chunk: expected an integer in [1, 1048576], got 0"},
           {needle + " --max-new-tokens 0", "--max-new-tokens: expected an integer in [1, 1048576], got 0"},
           {needle + " --buffer -1", "--buffer: expected an integer in [0, 2147483648], got -1"},
           {needle + " --needles 0", "--needles: expected an integer in [1, 1000], got 0"},
           {needle + " --seed -1", "--seed: expected an integer in [0, 18446744073709551615], got '-1'"},
           {needle + " --depths 0,nan", "--depths: expected a number in [0, 100], got nan"},
           {needle + " --depths 0,101", "--depths: expected a number in [0, 100], got 101"},
           {needle + " --depths 0", "--depths (a count): expected an integer in [1, 1000], got 0"},
           {needle + " --lengths 0", "--lengths: 0 outside [1, 2^31]"},
           {needle + " --lengths inf", "--lengths: 'inf' is not a token count (e.g. 4000, 4K, 1M)"},
           {needle + " --lengths 1K:2K:0", "--lengths (count after the second ':'): expected an integer in [1, 10000], got 0"},
           {needle + " --lengths 150", "--lengths: 150 leaves no haystack after the 200-token --buffer"},
           {needle + " --train-length nan", "--train-length: expected a token count such as 80K, got 'nan'"},
           {needle + " --task sudoku", "--task: expected needle, passkey, multikey or multivalue, got 'sudoku'"},
           {needle + " --endpoint http://h --model-name m", "give either --model DIR or --endpoint URL"},
           {compare + " --train-length 0", "--train-length: expected a token count such as 80K, got '0'"},
           {"needle compare a --out c.txt", "--out 'c.txt': expected a .png or .svg file name"},
           {loss + " --threshold nan", "--threshold: expected a number in [0, 100], got nan"},
           {loss + " --threshold -inf", "--threshold: expected a number in [0, 100], got -inf"},
           {loss + " --threads 2000", "--threads: expected an integer in [0, 1024], got 2000"},
           {loss + " --split 0", "--split: expected an integer in [1, 2147483648], got 0"},
           {loss + " --seq-len 32M", "--seq-len: expected an integer in [0, 16777216], got 33554432"},
           {loss + " --max-tokens 0", "--max-tokens: expected an integer in [1, 1099511627776], got 0"},
           {loss + " --max-tokens nan", "--max-tokens: expected a token count such as 1M, got 'nan'"},
           {loss + " --buckets 64,32", "--buckets must ascend: 32 after 64"},
           {loss + " --seed -1", "--seed: expected an integer in [0, 18446744073709551615], got '-1'"},
           {serve + " --port 65536", "--port: expected an integer in [0, 65535], got 65536"},
           {serve + " --queue -1", "--queue: expected an integer in [0, 4096], got -1"},
           {serve + " --default-max-tokens 0", "--default-max-tokens: expected an integer in [1, 1048576], got 0"},
           {serve + " --threads -1", "--threads: expected an integer in [0, 1024], got -1"},
           {serve + " --prefill-chunk 0", "--prefill-chunk: expected an integer in [1, 1048576], got 0"},
       })
    expect_usage_error(c);
}

TEST(Validation, MaxNewTokensCappedAtTheModelsContext) {
  const std::string dir = scratch_dir("cli-context");
  model::LlamaConfig c;
  c.vocab_size = 30, c.hidden_size = 16, c.intermediate_size = 24, c.num_hidden_layers = 1;
  c.num_attention_heads = 2, c.num_key_value_heads = 1, c.max_position_embeddings = 16, c.eos_token_id = -1;
  auto m = model::LlamaModel::create(c);
  ASSERT_TRUE(m.is_ok());
  model::init_params(c, 3, 0.5f, m->params());
  ASSERT_TRUE(model::save_checkpoint(*m, dir + "/m", {}).is_ok());
  const std::string gen = "generate --model " + dir + "/m --prompt-ids 1,2,3 --print-ids";
  auto r = run_longctx(gen + " --max-new-tokens 14");  // 3 + 14 = 17 > 16
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("longctx: error: --max-new-tokens: the prompt's 3 tokens + 14 new tokens = 17 exceed the model's context of 16 "
                          "(max_position_embeddings); generate at most 13 tokens or pass --allow-beyond-context"),
            std::string::npos)
      << r.output;
  // The ids are printed on stdout's one line (eos_token_id -1: nothing stops generation early).
  auto ids_printed = [](const std::string& out) {
    const std::string line = out.substr(0, out.find('\n'));
    return std::count(line.begin(), line.end(), ',') + 1;
  };
  r = run_longctx(gen + " --max-new-tokens 13");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ids_printed(r.output), 13) << r.output;
  r = run_longctx(gen + " --max-new-tokens 20 --allow-beyond-context");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ids_printed(r.output), 20) << r.output;
}

TEST(Errors, UnknownFlagsAndCommandsAreNamed) {
  for (const Case& c : std::vector<Case>{
           {kMix + " --long-shar 0.5", "unknown option '--long-shar' for 'longctx mix' (did you mean '--long-share'?)"},
           {kMix + " --long-shar=0.5", "unknown option '--long-shar' for 'longctx mix' (did you mean '--long-share'?)"},
           {"mix report d --figures f.png", "unknown option '--figures' for 'longctx mix report' (did you mean '--figure'?)"},
           {"stats d --frobnicate", "unknown option '--frobnicate' for 'longctx stats'"},
           {"mdel info m", "unknown command 'mdel' for 'longctx' (did you mean 'model'?); the commands are: corpus, tokenizer, tokenize, store, stats, mix, "},
           {"store inf d", "unknown command 'inf' for 'longctx store' (did you mean 'info'?); the commands are: merge, info, verify"},
           {"model", "'longctx model' needs a command: init, info, export-gguf, forward"},
           {"", "'longctx' needs a command: corpus, tokenizer, tokenize, store, stats, mix, "},
           {"store info a b", "unexpected argument 'b' for 'longctx store info'"},
       })
    expect_usage_error(c);
  auto r = run_longctx(kMix + " --long-shar 0.5");
  EXPECT_NE(r.output.find("Run 'longctx mix --help' for its options and examples."), std::string::npos) << r.output;
}

TEST(Errors, ExitCodes) {
  EXPECT_EQ(run_longctx("--version").exit_code, 0);
  EXPECT_EQ(run_longctx("mix --help").exit_code, 0);
  auto r = run_longctx("store info /nonexistent/store");  // the command ran and failed
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output.rfind("longctx: error: ", 0), 0u) << r.output;
  EXPECT_EQ(run_longctx("store info").exit_code, 2);              // a required argument is missing
  EXPECT_EQ(run_longctx("stats d --format xml").exit_code, 2);    // not one of the choices
  EXPECT_EQ(run_longctx("mix d --tokens 1M --weight x").exit_code, 2);
}

TEST(Errors, RunAppReturnsTheExitStatusInProcess) {
  // The same entry point as main(), for tests and embedders: no exit(), the status is returned.
  auto app = cli::make_app();
  const char* argv[] = {"longctx", "-q", "mix", "/nonexistent/store", "--tokens", "1M", "--weight", "3", "--plan-only"};
  ::testing::internal::CaptureStderr();
  const int code = cli::run_app(*app, 9, argv);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, cli::kExitUsage);
  EXPECT_NE(err.find("longctx: error: --weight: expected a number in [0, 1], got 3"), std::string::npos) << err;
}

}  // namespace
