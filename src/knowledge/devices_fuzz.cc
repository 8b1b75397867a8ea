// libFuzzer target: the devices.json loader/validator and device resolution
// must never crash, whatever the bytes. Seed corpus: data/devices.json.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "anepilot/device_catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto catalog = anepilot::knowledge::DeviceCatalog::Parse(text, "fuzz.json");
  if (!catalog.ok()) return 0;
  for (std::string_view q : {"iPhone14,7", "iPhone99,1", "A15", "Mac-M2-Max", "Pixel8", "all"}) {
    (void)catalog->Resolve(q);
  }
  // The input itself as a device list (exercises the splitter).
  (void)catalog->ResolveList(text.substr(0, 256));
  for (const auto& d : catalog->devices()) (void)catalog->ChipOf(d).name.size();
  return 0;
}
