#include "base/mapped_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace anepilot {
namespace {

namespace fs = std::filesystem;

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("anepilot_mapped_file_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path dir_;
};

TEST_F(MappedFileTest, BothPagingModesAndReadFileToStringSeeTheBytes) {
  std::string bytes(100000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31 % 251);
  const std::string path = Write("data.bin", bytes);
  for (auto paging : {MappedFile::Paging::kLazy, MappedFile::Paging::kWhole}) {
    auto f = MappedFile::Open(path, paging);
    ASSERT_TRUE(f.ok()) << f.status().message();
    EXPECT_EQ(f->view(), bytes);
    EXPECT_EQ(f->path(), path);
  }
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, bytes);
}

TEST_F(MappedFileTest, WholeFilesAreReadBelowTheCopyLimitAndMappedAbove) {
  // Both sides of kCopyMaxBytes (copied with read() / mapped and populated).
  for (size_t size : {MappedFile::kCopyMaxBytes - 1, MappedFile::kCopyMaxBytes, MappedFile::kCopyMaxBytes + 4097}) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 % 253);
    const std::string path = Write("whole.bin", bytes);
    auto f = MappedFile::Open(path, MappedFile::Paging::kWhole);
    ASSERT_TRUE(f.ok()) << f.status().message();
    ASSERT_EQ(f->size(), size);
    EXPECT_TRUE(f->view() == bytes) << size;
    MappedFile moved = std::move(*f);  // the buffer or mapping moves with it
    EXPECT_EQ(f->size(), 0u);
    EXPECT_TRUE(moved.view() == bytes) << size;
  }
}

TEST_F(MappedFileTest, AnEmptyFileIsEmpty) {
  const std::string path = Write("empty", "");
  auto f = MappedFile::Open(path, MappedFile::Paging::kWhole);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->size(), 0u);
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(text->empty());
}

TEST_F(MappedFileTest, MissingFilesAndDirectoriesAreNamedErrors) {
  const std::string missing = (dir_ / "nope.bin").string();
  for (const Status& s : {MappedFile::Open(missing).status(), ReadFileToString(missing).status()}) {
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_NE(s.message().find(missing), std::string::npos) << s.message();
  }
  const std::string under_a_file = Write("plain", "x") + "/child";
  EXPECT_EQ(MappedFile::Open(under_a_file).status().code(), StatusCode::kNotFound);
  for (const Status& s : {MappedFile::Open(dir_.string()).status(), ReadFileToString(dir_.string()).status()}) {
    EXPECT_EQ(s.code(), StatusCode::kIoError);
    EXPECT_NE(s.message().find("is a directory"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace anepilot
