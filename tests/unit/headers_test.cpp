// Record headers as corps reads them.
#include "corps/headers.hpp"

#include <gtest/gtest.h>

namespace {

TEST(Headers, FindHeaderReturnsTheLastOfARepeatedName) {
  // Kafka allows a name more than once; the last is the one in force, as
  // Java's Headers.lastHeader has it.
  const corps::Headers headers{{"a", "1"}, {"corps-type", "x.First"}, {"a", "2"}};
  const auto* found = corps::find_header(headers, "a");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->value, "2");
  EXPECT_EQ(corps::find_header(headers, corps::type_header)->value, "x.First");
}

TEST(Headers, FindHeaderMatchesNamesExactly) {
  const corps::Headers headers{{"Corps-Type", "x.Upper"}, {"corps-type ", "x.Space"}};
  EXPECT_EQ(corps::find_header(headers, "corps-type"), nullptr);
  EXPECT_EQ(corps::find_header({}, "corps-type"), nullptr);
}

TEST(Headers, AHeaderWithoutAValueIsFoundAndSaysSo) {
  const corps::Headers headers{{"tombstone", std::nullopt}};
  const auto* found = corps::find_header(headers, "tombstone");
  ASSERT_NE(found, nullptr);
  EXPECT_FALSE(found->value);
}

}  // namespace
