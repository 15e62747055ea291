#pragma once
// `-o OUT.h5` of the analysis verbs: each result written into a ResultFile (core's
// plain-HDF5 writer) under one top-level group per verb. The layout is the contract in
// docs/hdf5-schema.md, "Analysis result files": groups per layer (`layer_<l>`, l = model-layer
// index) or layer pair (`<from>_<to>`), n-d datasets for vectors and matrices, attributes for
// scalars, with the same names as the --json keys where there is one.
#include <string>
#include <vector>

#include "switchyard/analysis/affinity.h"
#include "switchyard/analysis/compare.h"
#include "switchyard/analysis/placement.h"
#include "switchyard/analysis/stats.h"
#include "switchyard/core/result_store.h"

namespace sy::analysis {

// token_strings: the trace's vocabulary, for /stats/layer_<l>/top_token_strings.
void save_stats(const StatsResult& result, const std::vector<std::string>& token_strings, ResultFile& out);
void save_affinity(const AffinityResult& result, ResultFile& out);
void save_placement(const PlacementResult& result, ResultFile& out);
void save_compare(const CompareResult& result, const std::vector<std::string>& token_strings, ResultFile& out);
void save_dataset_comparison(const DatasetComparison& result, ResultFile& out);

}  // namespace sy::analysis
