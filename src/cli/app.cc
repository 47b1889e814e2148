#include "cli/app.h"

#include <algorithm>
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/cmd_corpus.h"
#include "cli/cmd_eval.h"
#include "cli/cmd_mix.h"
#include "cli/cmd_model.h"
#include "cli/cmd_reproduce.h"
#include "cli/cmd_serve.h"
#include "cli/cmd_stats.h"
#include "cli/cmd_tokenize.h"
#include "cli/cmd_tokenizer.h"
#include "cli/cmd_train.h"
#include "cli/command.h"
#include "longctx/version.h"

namespace longctx::cli {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment distance over three rows of the dynamic-programming table.
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The subcommand the command line reached: the deepest one parsed.
const CLI::App* reached(const CLI::App& app) {
  const CLI::App* at = &app;
  for (auto subs = at->get_subcommands(); !subs.empty(); subs = at->get_subcommands()) at = subs.front();
  return at;
}

std::vector<std::string> subcommand_names(const CLI::App* cmd) {
  std::vector<std::string> names;
  for (const CLI::App* s : cmd->get_subcommands([](const CLI::App*) { return true; })) names.push_back(s->get_name());
  return names;
}

// Flag names usable at `cmd`: its own and, through fallthrough, its parents' (-q).
std::vector<std::string> option_names(const CLI::App* cmd) {
  std::vector<std::string> names;
  for (const CLI::App* c = cmd; c; c = c->get_parent())
    for (const CLI::Option* o : c->get_options()) {
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
      for (const auto& s : o->get_snames()) names.push_back("-" + s);
    }
  return names;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string m = closest_match(word, candidates);
  return m.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", m);
}

// The message for a command line CLI11 refused.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* at = reached(app);
  const std::string path = command_path(at);
  std::vector<std::string> extra = app.remaining(true);
  if (!extra.empty()) {
    const std::string& arg = extra.front();
    if (arg.size() > 1 && arg[0] == '-') {
      std::string name = arg.substr(0, arg.find('='));
      return fmt::format("unknown option '{}' for '{}'{}", name, path, did_you_mean(name, option_names(at)));
    }
    std::vector<std::string> subs = subcommand_names(at);
    if (!subs.empty() && at->get_subcommands().empty())
      return fmt::format("unknown command '{}' for '{}'{}; the commands are: {}", arg, path, did_you_mean(arg, subs),
                         fmt::join(subs, ", "));
    return fmt::format("unexpected argument '{}' for '{}'", arg, path);
  }
  std::vector<std::string> subs = subcommand_names(at);
  if (dynamic_cast<const CLI::RequiredError*>(&e) && !subs.empty() && at->get_subcommands().empty() &&
      std::string_view(e.what()).find("ubcommand") != std::string_view::npos)
    return fmt::format("'{}' needs a command: {}", path, fmt::join(subs, ", "));
  return e.what();
}

}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(1, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

std::unique_ptr<CLI::App> make_app() {
  auto app = std::make_unique<CLI::App>(
      "longctx: extend a LLaMA-family model's context window to 64K-128K by data engineering\n"
      "(Fu et al. 2024, \"Data Engineering for Scaling Language Models to 128K Context\").\n\n"
      "Typical flow:\n"
      "  longctx corpus sample --out data/sample                  # or your SlimPajama copy\n"
      "  longctx tokenizer train data/sample/train --out data/tokenizer.model\n"
      "  longctx tokenize data/sample/train --tokenizer data/tokenizer.model --out data/store\n"
      "  longctx stats data/store --figure data/stats.png\n",
      "longctx");
  app->set_version_flag("--version", LONGCTX_VERSION);
  app->add_flag("-q,--quiet", global_quiet(), "No progress output");
  app->require_subcommand(1);
  app->fallthrough();
  set_examples(app.get(), {"longctx mix data/store --tokens 1B --seq-len 80K --out data/mix"},
               "Run 'longctx COMMAND --help' for a command's options and examples.");
  register_corpus_commands(*app);
  register_tokenizer_commands(*app);
  register_tokenize_commands(*app);
  register_stats_commands(*app);
  register_mix_commands(*app);
  register_model_commands(*app);
  register_train_commands(*app);
  register_eval_commands(*app);
  register_serve_commands(*app);
  register_reproduce_commands(*app);
  return app;
}

int run_app(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
    return kExitOk;
  } catch (const CLI::RuntimeError& e) {  // a command ran and failed: finish() has reported it
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    report_error(usage_message(app, e));
    print_help_hint(reached(app));
    return kExitUsage;
  } catch (const std::exception& e) {  // a library bug must still end with a message, not an abort
    report_error(std::string("internal error: ") + e.what());
    return kExitFailed;
  }
}

}  // namespace longctx::cli
