#include "study/study_mix.h"

#include <fmt/format.h>

#include "core/validate.h"
#include "mix/strategy.h"

namespace longctx::study {
namespace {

using nlohmann::json;

// A study's option keys (docs/reproduce.md), the strategy's own keys (MixStrategy::options_json,
// docs/mixing.md) and the `longctx mix` flags. They differ only for cut, whose `at` the mixture
// configuration calls `cut_at`.
struct OptionName {
  const char *study, *strategy, *flag;
};
constexpr OptionName kOptions[] = {{"at", "cut_at", "--at"},
                                   {"max_doc", "max_doc", "--max-doc"},
                                   {"long_share", "long_share", "--long-share"},
                                   {"keep_short", "keep_short", "--keep-short"},
                                   {"domains", "domains", "--domains"},
                                   {"weight", "weight", "--weight"},
                                   {"chars_per_token", "chars_per_token", "--chars-per-token"}};

const OptionName* by_strategy_key(const std::string& key) {
  for (const auto& o : kOptions)
    if (key == o.strategy) return &o;
  return nullptr;
}

}  // namespace

Result<MixConfig> study_mix_config(const StudyConfig& c, const MixtureSpec& m, const std::string& field) {
  // The strategy with its defaults says which options it takes.
  auto defaults = make_strategy(m.strategy);
  if (!defaults.is_ok()) return defaults.status().with_context(field + ".strategy");
  const json keys = (*defaults)->options_json();
  const std::string f = field + ".options";
  json options = json::object();
  std::vector<std::string> allowed;
  for (auto it = keys.begin(); it != keys.end(); ++it) {
    const OptionName* name = by_strategy_key(it.key());
    allowed.push_back(name ? name->study : it.key());
  }
  for (auto it = m.options.begin(); it != m.options.end(); ++it) {
    std::string key = it.key();
    for (const auto& o : kOptions) key = it.key() == o.study ? o.strategy : key;
    if (!keys.contains(key)) {
      return make_error(ErrorCode::kInvalidArgument, "{}.{}: not an option of strategy {} (its options: {})", f, it.key(),
                        m.strategy, allowed.empty() ? std::string("none") : fmt::format("{}", fmt::join(allowed, ", ")));
    }
    // One option at a time, so that an error names the option's field.
    LONGCTX_RETURN_IF_ERROR(make_strategy(m.strategy, json{{key, it.value()}}).status().with_context(f + "." + it.key()));
    options[key] = it.value();
  }
  // Cut defaults to the study's short context rather than the paper's 4K.
  if (keys.contains("cut_at") && !options.contains("cut_at")) options["cut_at"] = c.short_context;
  auto strategy = make_strategy(m.strategy, options);
  if (!strategy.is_ok()) return strategy.status().with_context(f);
  MixConfig mix;
  mix.strategy = *strategy;
  mix.total_tokens = c.tokens(m);
  mix.seq_len = c.seq_len(m);
  mix.seed = c.seed;
  mix.long_threshold = c.short_context;
  LONGCTX_RETURN_IF_ERROR(mix.validate().with_context(field));
  return mix;
}

Status with_store_tokens(const nlohmann::json& store_manifest, MixConfig* mix) {
  const json tok = store_manifest.value("tokenizer", json::object());
  const json bos = tok.value("bos_id", json(1));
  if (!bos.is_number_integer() || bos.get<int64_t>() < 0 || bos.get<int64_t>() > UINT32_MAX) {
    return make_error(ErrorCode::kInvalidArgument, "the store's tokenizer has no BOS token ({}); the study packs with BOS",
                      bos.dump());
  }
  mix->bos = true;
  mix->bos_id = static_cast<uint32_t>(bos.get<int64_t>());
  return Status::ok();
}

std::string mix_command_flags(const MixConfig& mix) {
  std::string s = "--strategy " + mix.strategy->name();
  const json options = mix.strategy->options_json();
  for (auto it = options.begin(); it != options.end(); ++it) {
    const OptionName* name = by_strategy_key(it.key());
    std::string value;
    if (it.value().is_array()) {
      for (const auto& v : it.value()) value += (value.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
    } else {
      value = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    }
    s += name ? fmt::format(" {} {}", name->flag, value) : fmt::format(" --{} {}", it.key(), value);
  }
  s += fmt::format(" --tokens {} --seq-len {} --long-threshold {} --seed {}", mix.total_tokens, mix.seq_len,
                   mix.long_threshold, mix.seed);
  return s;
}

}  // namespace longctx::study
