// How every command reports a failed Status: `anepilot: <message>` on stderr
// and, when the user asked for --json, a JSON error object on stdout so that a
// machine reading stdout always gets JSON:
//
//   {"schema": "anepilot.error", "version": 1, "code": "corrupt_model", "message": "..."}
#pragma once

#include "anepilot/status.h"
#include "cli/command.h"

namespace anepilot::cli {

// Writes the error and returns ExitCodeFor(status). `status` must not be OK.
int ReportError(const Status& status, bool json, CommandIo& io);

}  // namespace anepilot::cli
