// Long-context mixtures (paper.md "The mixture strategies compared", "Packing"; docs/mixing.md):
// strategy -> plan -> selection of document pieces -> seeded shuffle -> packing into seq_len
// chunks with document spans -> native packed shards (store/packed_shards.h) -> report.
// One concept per header; this one includes them all:
//   mix/mix_config.h   the configuration shared by the CLI, the manifest and the tests
//   mix/cell.h         the plan's cells (domain x length class)
//   mix/strategy.h     the strategy interface and registry; mix/strategies.h the strategies
//   mix/selection.h    which documents fill each cell (selection keys, repeats, prefixes)
//   mix/plan.h         budgets, per-cell targets and the plan's accounting (--plan-only)
//   mix/packing.h      pieces, shuffle, layout, the tokens and spans of a chunk
//   mix/report.h       the before/after report and its figure
//   mix/mix_run.h      shards on disk, tasks, resume, merge
// Architecture and the checklist for adding a strategy: docs/architecture.md.
#pragma once
#include "mix/cell.h"
#include "mix/mix_config.h"
#include "mix/mix_run.h"
#include "mix/packing.h"
#include "mix/plan.h"
#include "mix/report.h"
#include "mix/selection.h"
#include "mix/strategies.h"
#include "mix/strategy.h"
