// Which Core ML container a path is, decided from its contents.
#pragma once

#include <string>

#include "anepilot/ir.h"
#include "anepilot/result.h"

namespace anepilot::format {

// A regular file -> kMlModel (a protobuf; not checked here). A directory with
// Manifest.json -> kMlPackage. A directory with model.mil, coremldata.bin or
// model.espresso.net -> kMlModelc. Names (.mlpackage, ...) are not required.
// Errors: kNotFound for a path that does not exist; kNotAModel for a
// directory with none of those files (the message lists what was looked
// for) or a path that is neither file nor directory.
Result<ir::Container> DetectContainer(const std::string& path);

}  // namespace anepilot::format
