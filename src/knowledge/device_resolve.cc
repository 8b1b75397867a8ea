// Turning what a user typed ("iPhone14,7", "A15", "iPhone99,1", "all") into
// catalog devices.
#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "anepilot/device_catalog.h"
#include "knowledge/json_fields.h"

namespace anepilot::knowledge {

namespace {

// "iPhone17,9" -> {"iPhone", 17, 9}. nullopt unless <letters><digits>,<digits>.
struct ParsedIdentifier {
  std::string prefix;
  int major = 0;
  int minor = 0;
};

std::optional<ParsedIdentifier> ParseIdentifier(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0) return std::nullopt;
  ParsedIdentifier out{std::string(s.substr(0, i)), 0, 0};
  size_t digits = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++digits) {
    if (digits > 6) return std::nullopt;
    out.major = out.major * 10 + (s[i] - '0');
  }
  if (digits == 0 || i >= s.size() || s[i] != ',') return std::nullopt;
  ++i;
  digits = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++digits) {
    if (digits > 6) return std::nullopt;
    out.minor = out.minor * 10 + (s[i] - '0');
  }
  if (digits == 0 || i != s.size()) return std::nullopt;
  return out;
}

// The family an identifier prefix belongs to (Apple's hw.machine / hw.model names).
std::optional<DeviceFamily> FamilyOfPrefix(std::string_view prefix) {
  if (EqualsIgnoreCase(prefix, "iPhone")) return DeviceFamily::kIPhone;
  if (EqualsIgnoreCase(prefix, "iPad")) return DeviceFamily::kIPad;
  for (std::string_view mac : {"Mac", "MacBookAir", "MacBookPro", "Macmini", "iMac", "MacPro"}) {
    if (EqualsIgnoreCase(prefix, mac)) return DeviceFamily::kMac;
  }
  return std::nullopt;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Describe(const Device& d) { return fmt::format("{} ({})", d.name, d.identifier); }

// The chip named inside the first parentheses of a description such as
// "MacBook Pro (M1 Pro 32GB)" or "MacBook Air (M2, 8GB)": the longest leading
// run of words that is a chip name.
const Chip* ChipInParentheses(const DeviceCatalog& catalog, std::string_view s) {
  size_t open = s.find('(');
  size_t close = s.find(')', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return nullptr;
  std::string_view inner = s.substr(open + 1, close - open - 1);
  inner = inner.substr(0, inner.find(','));
  std::vector<size_t> word_ends;
  for (size_t i = 0; i <= inner.size(); ++i) {
    if (i == inner.size() || inner[i] == ' ') word_ends.push_back(i);
  }
  for (auto it = word_ends.rbegin(); it != word_ends.rend(); ++it) {
    if (const Chip* chip = catalog.FindChip(Trim(inner.substr(0, *it)))) return chip;
  }
  return nullptr;
}

}  // namespace

Result<DeviceResolution> DeviceCatalog::Resolve(std::string_view raw_query) const {
  std::string query = Trim(raw_query);
  if (const Device* d = FindDevice(query)) return DeviceResolution{d, true, ""};
  for (const Device& d : devices_) {
    if (!query.empty() && EqualsIgnoreCase(d.name, query)) return DeviceResolution{&d, true, ""};
  }

  const Chip* chip = FindChip(query);
  if (chip == nullptr) chip = ChipInParentheses(*this, query);
  if (chip != nullptr) {
    const Device* best = nullptr;
    for (DeviceFamily family : {DeviceFamily::kIPhone, DeviceFamily::kIPad, DeviceFamily::kMac}) {
      for (const Device& d : devices_) {
        if (d.family == family && d.chip == chip->name) { best = &d; break; }
      }
      if (best != nullptr) break;
    }
    if (best != nullptr) {
      return DeviceResolution{best, false,
                              fmt::format("\"{}\" names the chip {}: planning for {} as its representative", query,
                                          chip->name, Describe(*best))};
    }
  }

  if (std::optional<ParsedIdentifier> id = ParseIdentifier(query)) {
    if (std::optional<DeviceFamily> family = FamilyOfPrefix(id->prefix)) {
      // Known members with the same prefix, ordered by (major, minor).
      const Device* best = nullptr;
      ParsedIdentifier best_id;
      const Device* oldest = nullptr;
      ParsedIdentifier oldest_id;
      for (const Device& d : devices_) {
        std::vector<const std::string*> ids = {&d.identifier};
        for (const std::string& o : d.other_identifiers) ids.push_back(&o);
        for (const std::string* s : ids) {
          std::optional<ParsedIdentifier> known = ParseIdentifier(*s);
          if (!known || !EqualsIgnoreCase(known->prefix, id->prefix)) continue;
          auto key = std::pair{known->major, known->minor};
          if (oldest == nullptr || key < std::pair{oldest_id.major, oldest_id.minor}) {
            oldest = &d;
            oldest_id = *known;
          }
          // Candidates: same major (any minor), or a lower major.
          if (known->major > id->major) continue;
          if (best == nullptr || key > std::pair{best_id.major, best_id.minor}) {
            best = &d;
            best_id = *known;
          }
        }
      }
      if (best != nullptr) {
        std::string how = best_id.major == id->major
                              ? fmt::format("the highest known {}{},x", id->prefix, id->major)
                              : fmt::format("the newest known {}", DeviceFamilyName(*family));
        return DeviceResolution{best, false,
                                fmt::format("unknown identifier \"{}\": using {}, {}", query,
                                            Describe(*best), how)};
      }
      if (oldest != nullptr) {
        return DeviceResolution{oldest, false,
                                fmt::format("unknown identifier \"{}\" is older than every catalogued {}: "
                                            "using the oldest, {} (Core ML may not use its Neural Engine at all)",
                                            query, DeviceFamilyName(*family), Describe(*oldest))};
      }
      // No device with this exact prefix (e.g. "MacBookPro18,3"): the family's newest.
      const Device* newest = nullptr;
      for (const Device& d : devices_) {
        if (d.family != *family) continue;
        if (newest == nullptr || ChipOf(d).year > ChipOf(*newest).year) newest = &d;
      }
      if (newest != nullptr) {
        return DeviceResolution{newest, false,
                                fmt::format("unknown identifier \"{}\": no catalogued {} model; using the newest "
                                            "{}, {}", query, id->prefix, DeviceFamilyName(*family),
                                            Describe(*newest))};
      }
    }
  }
  return InvalidArgument(fmt::format(
      "unknown device \"{}\": expected a device identifier (e.g. iPhone14,7, iPad13,4, Mac14,2, "
      "Mac-M2-Max), a chip name (e.g. A15, M2 Max), a family (iPhone, iPad, Mac) or all",
      query));
}

Result<std::vector<DeviceResolution>> DeviceCatalog::ResolveList(std::string_view list) const {
  // Split on ',' / ';', then glue a purely numeric piece back onto the previous
  // one: it was the minor number of an identifier ("iPhone14" + "7").
  std::vector<std::string> items;
  std::string current;
  auto flush = [&](char separator) {
    std::string piece = Trim(current);
    current.clear();
    bool numeric = !piece.empty() &&
                   std::all_of(piece.begin(), piece.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (numeric && !items.empty() && separator == ',' && ParseIdentifier(items.back() + "," + piece)) {
      items.back() += "," + piece;
    } else {
      items.push_back(piece);
    }
  };
  char last_separator = ',';
  for (char c : list) {
    if (c == ',' || c == ';') {
      flush(last_separator);
      last_separator = c;
    } else {
      current += c;
    }
  }
  flush(last_separator);

  std::vector<DeviceResolution> out;
  auto add = [&](DeviceResolution r) {
    for (const DeviceResolution& e : out) {
      if (e.device == r.device) return;
    }
    out.push_back(std::move(r));
  };
  for (const std::string& item : items) {
    if (item.empty()) {
      return InvalidArgument(fmt::format("device list \"{}\" has an empty item", list));
    }
    if (EqualsIgnoreCase(item, "all")) {
      for (const Device& d : devices_) add(DeviceResolution{&d, true, ""});
      continue;
    }
    bool family_keyword = false;
    for (DeviceFamily f : {DeviceFamily::kIPhone, DeviceFamily::kIPad, DeviceFamily::kMac}) {
      if (EqualsIgnoreCase(item, DeviceFamilyName(f))) {
        family_keyword = true;
        for (const Device& d : devices_) {
          if (d.family == f) add(DeviceResolution{&d, true, ""});
        }
      }
    }
    if (family_keyword) continue;
    ANEPILOT_ASSIGN_OR_RETURN(DeviceResolution r, Resolve(item));
    add(std::move(r));
  }
  return out;
}

}  // namespace anepilot::knowledge
