#include "format/blob_references.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/parallel_for.h"
#include "format/blob_storage.h"
#include "ir/op_walk.h"

namespace anepilot::format {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kModelPathPrefix = "@model_path/";

// One place a blob is referenced from. Points into the model, which
// outlives the check (no per-reference string copies).
struct BlobUse {
  const ir::Constant* constant;
  const std::string* function;
  const ir::Op* op;

  std::string_view op_name() const { return op->name.empty() ? op->type : op->name; }
};

// Blob uses grouped by resolved weight file. Programs name one or two files
// thousands of times, so resolutions are cached by the written path, and the
// list of the file named last is kept at hand.
struct BlobUses {
  std::string model_dir;
  std::map<std::string, std::vector<BlobUse>> by_file;
  std::unordered_map<std::string_view, std::vector<BlobUse>*> by_written;  // views into the model
  const InlineString* last_written = nullptr;
  std::vector<BlobUse>* last_uses = nullptr;

  void Add(const ir::Constant& c, const std::string& fn, const ir::Op& op) {
    if (!c.blob) return;
    if (last_written == nullptr || *last_written != c.blob->file) {
      auto it = by_written.find(c.blob->file);
      if (it == by_written.end()) {
        it = by_written.emplace(c.blob->file, &by_file[ResolveBlobPath(c.blob->file, model_dir)])
                 .first;
      }
      last_written = &c.blob->file;
      last_uses = it->second;
    }
    last_uses->push_back({&c, &fn, &op});
  }
};

// Programs with at least this many top-level ops in a function, or this many
// references to one file, are walked and checked on several threads.
constexpr size_t kParallelMinItems = 8192;

unsigned ThreadsFor(size_t items, unsigned threads_option) {
  if (threads_option == 1 || items < kParallelMinItems) return 1;
  return threads_option == 0 ? UsefulThreads() : threads_option;
}

// Adds the blob references of ops [begin, end) of `block` and of the ops
// nested in them, in program order.
void CollectOps(const ir::Block& block, size_t begin, size_t end, const std::string& fn, BlobUses* uses) {
  ir::ForEachOpInProgramOrder(block, begin, end, [&](const ir::Op& op) {
    for (const auto& [key, c] : op.attributes) uses->Add(c, fn, op);
    for (const ir::Argument& arg : op.inputs) {
      for (const ir::Binding& b : arg.bindings) {
        if (b.constant) uses->Add(*b.constant, fn, op);
      }
    }
  });
}

// Large function bodies are split into ranges of ops collected on their own
// threads; the lists are joined in range order, so each file's uses stay in
// program order (the first bad reference reported is the first in the file).
void CollectModel(const ir::Model& model, unsigned threads_option, BlobUses* uses) {
  for (const ir::Function& fn : model.program.functions) {
    const size_t n = fn.body.ops.size();
    const unsigned threads = ThreadsFor(n, threads_option);
    if (threads <= 1) {
      CollectOps(fn.body, 0, n, fn.name, uses);
      continue;
    }
    std::vector<BlobUses> parts(threads, BlobUses{uses->model_dir, {}, {}, nullptr, nullptr});
    ParallelForRanges(n, threads, [&](size_t t, size_t begin, size_t end) {
      CollectOps(fn.body, begin, end, fn.name, &parts[t]);
    });
    for (BlobUses& part : parts) {
      for (auto& [path, list] : part.by_file) {
        std::vector<BlobUse>& into = uses->by_file[path];
        into.insert(into.end(), list.begin(), list.end());
      }
    }
  }
  for (const ir::Model& stage : model.stages) CollectModel(stage, threads_option, uses);
}

// Bytes the declared tensor occupies, when its shape is fully known and the
// product does not overflow.
std::optional<uint64_t> ExpectedBytes(const ir::TensorType& t) {
  if (!t.fully_known()) return std::nullopt;
  int bits = ir::DTypeBits(t.dtype);
  if (bits == 0) return std::nullopt;
  unsigned __int128 n = 1;
  for (const ir::Dim& d : t.shape) {
    n *= static_cast<uint64_t>(d.size);
    if (n > (static_cast<unsigned __int128>(1) << 64)) return std::nullopt;
  }
  unsigned __int128 bytes = (n * static_cast<unsigned>(bits) + 7) / 8;
  if (bytes > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

// For messages: `path` as seen from the folder holding the model. Lexical (no
// symlinks resolved): both paths come from the same user-given path, and
// resolving them cost a readlink per path component on every read.
std::string RelativeToModel(const std::string& path, const std::string& model_dir) {
  fs::path rel = fs::path(path).lexically_normal().lexically_relative(
      fs::path(model_dir).parent_path().lexically_normal());
  return rel.empty() ? path : rel.string();
}

// A blob file must lie inside the model's folder (as Core ML requires):
// a model must not make the reader open arbitrary files.
bool InsideFolder(const std::string& path, const std::string& folder) {
  fs::path rel = fs::path(path).lexically_relative(fs::path(folder).lexically_normal());
  return !rel.empty() && *rel.begin() != "..";
}

// The size of the blob `use` refers to in `file` (at `path`). With
// verify_weights, its header is checked against the constant's declared type
// (an error names the file, offset and op); without, an unreadable header
// falls back to the declared size. Safe to call from several threads.
Result<uint64_t> BlobBytes(const BlobFile& file, const BlobUse& use, const std::string& path,
                           const ReadOptions& options) {
  const ir::Constant& c = *use.constant;
  const uint64_t offset = c.blob->offset;
  BlobExpectation expect;
  if (c.type.kind == ir::ValueType::Kind::kTensor) {
    expect.dtype = c.type.tensor.dtype;
    expect.size_bytes = ExpectedBytes(c.type.tensor);
  }
  if (!options.verify_weights) {
    Result<BlobHeader> header = file.HeaderAt(offset);
    return header.ok() ? header->size_bytes : expect.size_bytes.value_or(0);
  }
  Result<BlobHeader> header = file.Check(offset, expect);
  if (!header.ok()) {
    return CorruptWeights(fmt::format("{}: blob at offset {} (op {}/{}): {}", path, offset, *use.function,
                                      use.op_name(), header.status().message()));
  }
  return header->size_bytes;
}

}  // namespace

std::string ResolveBlobPath(std::string_view written, const std::string& model_dir) {
  std::string_view rest = written;
  if (rest.substr(0, kModelPathPrefix.size()) == kModelPathPrefix) {
    rest.remove_prefix(kModelPathPrefix.size());
  }
  return (fs::path(model_dir) / fs::path(std::string(rest))).lexically_normal().string();
}

Status VerifyBlobReferences(ir::Model* model, const std::string& model_dir,
                            const ReadOptions& options) {
  BlobUses collected{model_dir, {}, {}, nullptr, nullptr};
  CollectModel(*model, options.decode_threads, &collected);
  const auto& uses = collected.by_file;
  ir::WeightsInfo& w = model->weights;
  if (uses.empty()) return Status::Ok();

  size_t present = 0;
  std::vector<std::string> missing;
  for (const auto& [path, file_uses] : uses) {
    if (!InsideFolder(path, model_dir)) {
      const BlobUse& use = file_uses.front();
      return CorruptModel(fmt::format(
          "{}: op {}/{} refers to blob file \"{}\", outside the model folder {}",
          model->model_file, *use.function, use.op_name(), use.constant->blob->file, model_dir));
    }
    // Distinct offsets, sorted; counted[i] marks offsets[i] as summed.
    std::vector<uint64_t> offsets;
    offsets.reserve(file_uses.size());
    for (const BlobUse& use : file_uses) offsets.push_back(use.constant->blob->offset);
    std::sort(offsets.begin(), offsets.end());
    offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
    w.blob_count += offsets.size();
    std::vector<bool> counted(offsets.size());
    auto first_use = [&](uint64_t offset) {
      size_t i = std::lower_bound(offsets.begin(), offsets.end(), offset) - offsets.begin();
      if (counted[i]) return false;
      counted[i] = true;
      return true;
    };
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      missing.push_back(RelativeToModel(path, model_dir));
      continue;
    }
    ++present;
    if (w.path.empty()) w.path = path;
    ANEPILOT_ASSIGN_OR_RETURN(BlobFile file, BlobFile::Open(path));
    w.file_bytes += file.size();
    // Each use's blob size (checked when verify_weights), on several threads
    // for many uses; then summed once per distinct offset, in order.
    std::vector<uint64_t> sizes(file_uses.size());
    const unsigned threads = ThreadsFor(file_uses.size(), options.decode_threads);
    const std::vector<BlobUse>& list = file_uses;  // lambdas cannot capture bindings before clang 16
    const std::string& file_path = path;
    std::vector<std::pair<size_t, Status>> failures(threads, {SIZE_MAX, Status::Ok()});
    ParallelForRanges(list.size(), threads, [&](size_t t, size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        Result<uint64_t> bytes = BlobBytes(file, list[i], file_path, options);
        if (!bytes.ok()) {
          failures[t] = {i, bytes.status()};
          return;
        }
        sizes[i] = *bytes;
      }
    });
    for (auto& [index, status] : failures) {  // ranges in order: the first failure is the earliest use
      if (index != SIZE_MAX) return status;
    }
    for (size_t i = 0; i < file_uses.size(); ++i) {
      if (first_use(file_uses[i].constant->blob->offset)) w.referenced_bytes += sizes[i];
    }
  }

  if (missing.empty()) {
    w.state = ir::WeightsInfo::State::kPresent;
  } else if (present == 0) {
    w.state = ir::WeightsInfo::State::kMissing;
    if (w.path.empty()) w.path = uses.begin()->first;
    w.note = fmt::format("{} absent: program read in full, {} blob reference(s) not checked",
                         fmt::join(missing, ", "), w.blob_count);
  } else {
    w.state = ir::WeightsInfo::State::kPartial;
    w.note = fmt::format("{} absent: blobs in the other weight file(s) checked",
                         fmt::join(missing, ", "));
  }
  return Status::Ok();
}

}  // namespace anepilot::format
