// The model's content hash (SHA-256, the key of the crash guard, the policy
// and the compiled-model store), remembered across launches: hashing a 500 MB
// model costs about a second on a phone, on every launch's critical path.
//
// The cache file maps a path to a fingerprint of its metadata (for a file:
// device, inode, size, mtime and ctime in nanoseconds; for a directory: the
// same for every file under it, in sorted order) and the hash computed for it.
// A fingerprint that differs means the content may have changed: it is hashed
// again. Writes are atomic but not fsynced: losing the cache only costs a
// rehash. Several processes may share one cache file (the last writer wins).
#pragma once

#include <string>

#include "anepilot/result.h"

namespace anepilot::runtime {

// Metadata fingerprint of a file or directory tree. Errors: kNotFound.
Result<std::string> MetadataFingerprint(const std::string& path);

// CompiledModelStore::HashPath(path), served from `cache_file` when the
// fingerprint still matches. Errors as HashPath; a missing or damaged cache
// file is not an error.
Result<std::string> CachedContentHash(const std::string& path, const std::string& cache_file);

}  // namespace anepilot::runtime
