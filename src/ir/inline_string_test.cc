#include "anepilot/inline_string.h"
#include "anepilot/boxed_string.h"

#include <map>
#include <string>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace anepilot {
namespace {

// Lengths on both sides of the inline capacity.
const size_t kLengths[] = {0, 1, 15, 16, 29, 30, 31, 32, 100};

std::string Text(size_t n, char first = 'a') {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(first + i % 26));
  return s;
}

TEST(InlineString, HoldsAnyLengthNulTerminated) {
  for (size_t n : kLengths) {
    std::string want = Text(n);
    InlineString s(want);
    EXPECT_EQ(s.size(), n);
    EXPECT_EQ(s.view(), want);
    EXPECT_EQ(std::string(s.c_str()), want) << "c_str of length " << n;
    EXPECT_EQ(s.empty(), n == 0);
  }
}

TEST(InlineString, AnEmptyViewWithoutDataAssignsEmpty) {
  InlineString s("abc");
  s.assign(std::string_view());  // data() is nullptr
  EXPECT_TRUE(s.empty());
  InlineString t(std::string_view{});
  EXPECT_EQ(t, "");
  InlineString h(Text(40));
  h = std::string_view();
  EXPECT_TRUE(h.empty());
}

TEST(InlineString, CopiesMovesAndAssignsBetweenInlineAndHeap) {
  for (size_t a : kLengths) {
    for (size_t b : kLengths) {
      InlineString x(Text(a, 'a')), y(Text(b, 'k'));
      InlineString copy = x;
      EXPECT_EQ(copy, Text(a, 'a'));
      copy = y;  // a -> b
      EXPECT_EQ(copy, Text(b, 'k'));
      InlineString moved = std::move(copy);
      EXPECT_EQ(moved, Text(b, 'k'));
      EXPECT_TRUE(copy.empty());  // NOLINT: moved-from is empty by contract
      moved = std::move(x);
      EXPECT_EQ(moved, Text(a, 'a'));
      moved.assign(std::string_view(Text(b, 'q')));
      EXPECT_EQ(moved, Text(b, 'q'));
    }
  }
}

// GCC cannot see that a view into an inline string is at most 30 bytes long
// and warns about the heap branch it never takes here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
TEST(InlineString, AssigningAPartOfItselfIsSafe) {
  for (size_t n : kLengths) {
    InlineString s(Text(n));
    InlineString& same = s;
    s = same;  // self-assignment
    EXPECT_EQ(s, Text(n));
    s.assign(s.substr(n / 2));  // a view into its own buffer
    EXPECT_EQ(s, Text(n).substr(n / 2)) << "length " << n;
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

TEST(InlineString, ComparesHashesAndFormatsAsItsText) {
  InlineString a("encoder_0_1_block_2_weight_to_fp16"), b("add");
  EXPECT_EQ(a, std::string("encoder_0_1_block_2_weight_to_fp16"));
  EXPECT_EQ(b, "add");
  EXPECT_NE(a, b);
  EXPECT_LT(b, a);  // "add" < "encoder..."
  EXPECT_TRUE(a.starts_with("encoder_") && a.ends_with("_fp16"));
  EXPECT_EQ(a.find("block"), 12u);
  EXPECT_EQ(std::hash<InlineString>{}(a), std::hash<std::string_view>{}(a.view()));
  EXPECT_EQ(fmt::format("[{:>5}]", b), "[  add]");
  EXPECT_EQ(b + "_1", "add_1");
  std::map<InlineString, int, std::less<>> m{{a, 1}, {b, 2}};
  EXPECT_EQ(m.find(std::string_view("add"))->second, 2);
  std::unordered_set<InlineString> set{a, b, InlineString("add")};
  EXPECT_EQ(set.size(), 2u);
}

TEST(BoxedString, IsOnePointerWithValueSemantics) {
  static_assert(sizeof(BoxedString) == sizeof(void*));
  for (size_t n : kLengths) {
    const std::string text(n, 'q');
    BoxedString a(text);
    EXPECT_EQ(a.size(), n);
    EXPECT_EQ(a.empty(), n == 0);
    EXPECT_EQ(a.view(), text);
    EXPECT_EQ(a.data()[n], '\0');
    BoxedString copy = a;
    EXPECT_EQ(copy, a);
    if (n > 0) {
      EXPECT_NE(copy.data(), a.data()) << "copies are deep";
    }
    BoxedString moved = std::move(a);
    EXPECT_EQ(moved.str(), text);
    copy = BoxedString("other");
    EXPECT_EQ(copy, "other");
    copy = moved;
    EXPECT_EQ(copy, std::string_view(text));
    copy = copy;  // NOLINT: self-assignment keeps the value
    EXPECT_EQ(copy.str(), text);
  }
  EXPECT_EQ(BoxedString().data(), std::string_view(""));
  EXPECT_EQ(BoxedString(""), BoxedString());
}

}  // namespace
}  // namespace anepilot
