// Neural Engine generations as Apple's compiler names them: "H11" (A12) ..
// "H18" (A19). Shared by the device catalog and the rules.
#pragma once

#include <string_view>

namespace anepilot::knowledge {

// AneGenerationNumber("H14") == 14 (case-insensitive "h14" too); 0 for
// anything malformed ("", "H", "X14", "H1a").
int AneGenerationNumber(std::string_view generation);

}  // namespace anepilot::knowledge
