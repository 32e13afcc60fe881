// make_dead_letter and truncate_dead_letter: a failed record kept whole,
// and what is left of it when it must be cut down. No broker: the
// consumer's writing of letters is tested in tests/integration.
#include "corps/dead_letter.hpp"

#include <gtest/gtest.h>

#include "corps/testing/records.hpp"

#include <string>

namespace {

corps::Record failed_record(std::optional<std::string> key, std::optional<std::string> value,
                            corps::Headers headers) {
  const corps::RecordLocation location{"VideoStream", 3, 41};
  corps::Error error(corps::Errc::corrupt_data, corps::Stage::decompress, "not a zlib stream",
                     location);
  return corps::testing::make_record(
      {location, std::move(key), std::move(value), std::move(headers), 1'700'000},
      std::move(error));
}

TEST(DeadLetter, KeepsTheRecordWholeWithWhyItFailed) {
  const auto record = failed_record("k1", std::string("\x78\x01garbage", 9),
                                    {{"trace", "abc"}, {"empty", std::nullopt}});
  const auto letter =
      corps::make_dead_letter(record, record.error(), 2, "predict", "predict-1234");
  EXPECT_EQ(letter.topic(), "VideoStream");
  EXPECT_EQ(letter.partition(), 3);
  EXPECT_EQ(letter.offset(), 41);
  EXPECT_EQ(letter.timestamp_ms(), 1'700'000);
  EXPECT_TRUE(letter.has_key());
  EXPECT_EQ(letter.key(), "k1");
  EXPECT_EQ(letter.value(), std::string("\x78\x01garbage", 9));
  EXPECT_FALSE(letter.null_value());
  ASSERT_EQ(letter.headers_size(), 2);
  EXPECT_EQ(letter.headers(0).name(), "trace");
  EXPECT_EQ(letter.headers(0).value(), "abc");
  EXPECT_TRUE(letter.headers(1).null_value());
  EXPECT_EQ(letter.stage(), "decompress");
  EXPECT_EQ(letter.code(), std::string(corps::to_string(corps::Errc::corrupt_data)));
  EXPECT_NE(letter.error().find("not a zlib stream"), std::string::npos);
  EXPECT_EQ(letter.attempts(), 2);
  EXPECT_EQ(letter.consumer_group(), "predict");
  EXPECT_EQ(letter.service(), "predict-1234");
  EXPECT_GT(letter.failed_at(), 0.0);
  EXPECT_FALSE(letter.truncated());
}

TEST(DeadLetter, TellsANullKeyAndValueFromEmptyOnes) {
  const auto nulls = failed_record(std::nullopt, std::nullopt, {});
  const auto empties = failed_record("", "", {});
  const auto null_letter = corps::make_dead_letter(nulls, nulls.error(), 1, "", "s");
  const auto empty_letter = corps::make_dead_letter(empties, empties.error(), 1, "", "s");
  EXPECT_FALSE(null_letter.has_key());
  EXPECT_TRUE(null_letter.null_value());
  EXPECT_TRUE(empty_letter.has_key());
  EXPECT_FALSE(empty_letter.null_value());
}

TEST(DeadLetter, AHeaderNameThatIsNotUtf8KeepsItsBytesAndTheLetterParsesAgain) {
  const std::string hostile("\xc3\x28", 2);
  const auto record = failed_record(std::nullopt, "v", {{hostile, "x"}});
  const corps::Error error(corps::Errc::handler_failed, corps::Stage::handler,
                           "handler said " + hostile, record.location());
  const auto letter = corps::make_dead_letter(record, error, 1, "g", "s");
  EXPECT_EQ(corps::header_name(letter.headers(0)), hostile);
  corps::proto::DeadLetter parsed;
  ASSERT_TRUE(parsed.ParseFromString(letter.SerializeAsString()));
  EXPECT_EQ(corps::header_name(parsed.headers(0)), hostile);
}

TEST(DeadLetter, TruncatedItKeepsCoordinatesErrorAndSizesButNotTheBytes) {
  const std::string value(100'000, 'v');
  const auto record = failed_record("key", value, {{"h", "1234"}, {"i", std::nullopt}});
  const corps::Error error(corps::Errc::handler_failed, corps::Stage::handler,
                           std::string(40'000, 'e'), record.location());
  const auto whole = corps::make_dead_letter(record, error, 3, "g", "s");
  const auto cut = corps::truncate_dead_letter(whole);
  EXPECT_TRUE(cut.truncated());
  EXPECT_EQ(cut.topic(), "VideoStream");
  EXPECT_EQ(cut.offset(), 41);
  EXPECT_EQ(cut.attempts(), 3);
  EXPECT_TRUE(cut.value().empty());
  EXPECT_TRUE(cut.key().empty());
  EXPECT_EQ(cut.headers_size(), 0);
  EXPECT_EQ(cut.value_size(), 100'000);
  EXPECT_EQ(cut.key_size(), 3);
  EXPECT_EQ(cut.header_count(), 2);
  EXPECT_EQ(cut.header_bytes(), 1 + 4 + 1);
  EXPECT_EQ(cut.value_sha256().size(), 64U);
  EXPECT_LT(cut.error().size(), 17 * 1024U) << "the error's first 16 KiB, and how much more";
  EXPECT_NE(cut.error().find("more bytes"), std::string::npos);
  EXPECT_LT(cut.ByteSizeLong(), 20'000U);
  // Truncating again changes nothing.
  EXPECT_EQ(corps::truncate_dead_letter(cut).SerializeAsString(), cut.SerializeAsString());
}

TEST(DeadLetter, TheSameValueHasTheSameDigestAndAnotherValueAnother) {
  const auto a = failed_record(std::nullopt, "same", {});
  const auto b = failed_record(std::nullopt, "same", {});
  const auto c = failed_record(std::nullopt, "other", {});
  const auto digest = [](const corps::Record& record) {
    return corps::truncate_dead_letter(corps::make_dead_letter(record, record.error(), 1, "", ""))
        .value_sha256();
  };
  EXPECT_EQ(digest(a), digest(b));
  EXPECT_NE(digest(a), digest(c));
  // SHA-256 of "same", as `printf same | sha256sum` says.
  EXPECT_EQ(digest(a), "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5");
}

TEST(DeadLetter, ATruncatedNullValueSaysSoRatherThanAnEmptyDigest) {
  const auto record = failed_record(std::nullopt, std::nullopt, {});
  const auto cut =
      corps::truncate_dead_letter(corps::make_dead_letter(record, record.error(), 1, "", ""));
  EXPECT_EQ(cut.value_size(), -1);
  EXPECT_EQ(cut.key_size(), -1);
  EXPECT_TRUE(cut.value_sha256().empty());
}

}  // namespace
