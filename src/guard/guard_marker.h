// Marker files: one per armed (key, units, step), named
//   m.<key digest>.<units>.<step>.<marker id>.marker
// and holding a JSON copy of the DeadMarker fields. Written as a temp file
// ("t." prefix), locked, fsynced and renamed into place, so a marker is
// either absent or complete; its owner keeps it flock()ed while armed.
#pragma once

#include <string>
#include <vector>

#include "anepilot/result.h"
#include "guard/crash_guard.h"

namespace anepilot::guard_internal {

struct MarkerFile {
  std::string path;
  std::string id;  // unique per Arm: "<pid>-<armed_at_ms>-<random hex>"
  DeadMarker info;
  int fd = -1;     // open and flock()ed by us; the caller closes it
};

// Creates the marker (temp + flock + write + fsync + rename + fsync dir).
// The returned fd holds the lock; closing it without unlinking leaves a
// marker that the next Open treats as a death. kIoError on failure.
Result<MarkerFile> CreateMarker(const std::string& dir, const DeadMarker& info, bool durable);

// Markers in `dir` whose owner is dead (their flock can be taken), each
// returned locked. Markers whose content cannot be read are attributed from
// their file name when the digest is `own_key`'s, otherwise removed. Stale
// temp files of dead writers are removed.
Result<std::vector<MarkerFile>> CollectDeadMarkers(const std::string& dir, const GuardKey& own_key);

}  // namespace anepilot::guard_internal
