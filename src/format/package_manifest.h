// An .mlpackage's Manifest.json and the layout it describes.
//
//   Foo.mlpackage/
//     Manifest.json                  {fileFormatVersion, itemInfoEntries{id: {author,
//                                     description, name, path}}, rootModelIdentifier}
//     Data/<item path>               e.g. Data/com.apple.CoreML/model.mlmodel
//                                         Data/com.apple.CoreML/weights/
//                                         Data/com.apple.CoreML/Metadata.json (overlay)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "anepilot/result.h"

namespace anepilot::format {

struct ManifestItem {
  std::string id;           // the itemInfoEntries key (a UUID)
  std::string author;       // "com.apple.CoreML"
  std::string description;  // "CoreML Model Specification", "CoreML Model Weights", ...
  std::string name;         // "model.mlmodel", "weights", "Metadata.json"
  std::string path;         // relative to Data/: "com.apple.CoreML/model.mlmodel"
};

struct Manifest {
  std::string file_format_version;
  std::string root_model_id;
  std::vector<ManifestItem> items;  // in the JSON's key order

  const ManifestItem* Find(std::string_view id) const;
};

// Parses Manifest.json text. `file` prefixes every message.
// Errors: kParseError "<file>:<line>:<col>: <what>" for malformed JSON;
// kCorruptModel "<file>: field <name> ..." when a field has the wrong type,
// or an item path is absolute or climbs out of Data/ with "..";
// kMissingComponent when rootModelIdentifier is missing / empty / names no entry.
Result<Manifest> ParseManifest(std::string_view json, const std::string& file);

// Paths of the parts of a package, resolved on disk.
struct PackageLayout {
  std::string manifest_path;
  Manifest manifest;
  std::string model_file;            // the root model item's file
  std::string model_dir;             // its directory (what @model_path means)
  std::string weights_dir;           // the weights item's folder, or model_dir/weights
  std::vector<ManifestItem> extras;  // every item other than root model and weights
  std::vector<std::string> extra_paths;  // resolved paths of `extras`, same order
};

// Reads `package_dir`/Manifest.json and resolves the root model.
// Errors: ParseManifest's; kNotFound/kIoError reading the manifest;
// kMissingComponent "<manifest>: rootModelIdentifier <id> -> <path>: file
// absent" when the root model item's file does not exist.
Result<PackageLayout> ResolvePackage(const std::string& package_dir);

}  // namespace anepilot::format
