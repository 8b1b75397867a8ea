// Where anepilot's data files (devices.json, ane_rules.json, ...) live.
#pragma once

#include <string>

#include "anepilot/result.h"

namespace anepilot {

// The first directory that holds `devices.json`, searched in this order:
//   1. the environment variable ANEPILOT_DATA_DIR (if set, it must hold the
//      file: a wrong setting is an error, not silently skipped);
//   2. beside the running executable: <exe dir>/data, <exe dir>/../data,
//      <exe dir>/../share/anepilot/data, <exe dir>/../../data;
//   3. the source tree's data/ compiled in at build time.
// kNotFound lists every place tried and how to fix it.
// Thread-safe (reads the environment and the file system only).
Result<std::string> FindDataDir();

}  // namespace anepilot
