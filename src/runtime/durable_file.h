// Small POSIX helpers for writing files that survive a crash: data and the
// directory entry fsync()ed, replacement by rename().
#pragma once

#include <string>
#include <string_view>

#include "anepilot/status.h"

namespace anepilot::runtime {

// Creates (or truncates) `path` with `bytes` and fsyncs it. Errors: kIoError.
Status WriteFileDurably(const std::string& path, std::string_view bytes);

// fsyncs a directory so that entries created or renamed in it persist.
Status SyncDirectory(const std::string& dir);

// Writes `bytes` to a temp file beside `path`, fsyncs, renames over `path`, fsyncs
// the parent directory: readers see the old or the new content, never a mix.
Status ReplaceFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace anepilot::runtime
