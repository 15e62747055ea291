#pragma once
// /meta of a trace file: written once at creation, read by the reader and by --resume
// (internal to core/src/hdf5).
#include <hdf5.h>

#include <string>

#include "switchyard/core/trace_store.h"

namespace sy {

void write_trace_meta(hid_t file, const TraceMeta& meta, const std::string& where);
TraceMeta read_trace_meta(hid_t file, const std::string& where);
// Attributes a resumed run may change (device, max_tokens); not under SWMR.
void update_resumable_meta(hid_t file, const TraceMeta& meta, const std::string& where);
// Throws UsageError naming the first field in which `stored` and `wanted` differ.
void check_resume_matches(const TraceMeta& stored, const TraceMeta& wanted, const std::string& where);

}  // namespace sy
