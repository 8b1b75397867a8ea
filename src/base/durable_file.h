// Durable, atomic file updates (POSIX; Apple and Linux). Used for the files
// the runtime must never leave half-written: the crash guard's state, policy
// files, the compiled-model store's manifests.
#pragma once

#include <string>
#include <string_view>

#include "anepilot/status.h"

namespace anepilot {

// Flushes a descriptor to stable storage: F_FULLFSYNC on Apple platforms
// (plain fsync there only reaches the drive's cache), fsync elsewhere.
// kIoError names `path_for_errors`.
Status SyncFileDescriptor(int fd, const std::string& path_for_errors);

// fsync of a directory, so a rename / create / unlink inside it is durable.
Status SyncDirectory(const std::string& dir);

// Writes all of `data` to `fd`, retrying short writes and EINTR.
Status WriteFully(int fd, std::string_view data, const std::string& path_for_errors);

// Replaces `path` with `contents` atomically: a reader (or a process started
// after a kill at any instant) sees either the old file or the new one, never
// a mix. Writes a unique temp file beside `path`, fsyncs it, renames it over
// `path` and fsyncs the directory (`durable` = false skips the two syncs,
// keeping atomicity but not durability across power loss). The temp file is
// removed on failure.
Status WriteFileAtomically(const std::string& path, std::string_view contents,
                           bool durable = true);

// Identifies the current boot of the OS: the same for every process until the
// next reboot (including the one after an OS crash or a power cut), then
// different. Page-cache data written in this boot is intact if and only if no
// reboot happened since, so a file stamped with the boot id it was written in
// tells a later reader whether its unsynced writes can be trusted.
// Linux: /proc/sys/kernel/random/boot_id; Apple: sysctl kern.bootsessionuuid.
// Empty when unknown (callers must then assume a reboot happened).
std::string BootSessionId();

// Directory part of a path ("." when there is none).
std::string DirectoryOf(const std::string& path);

}  // namespace anepilot
