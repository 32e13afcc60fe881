#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "corps/corps.hpp"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"

namespace {

using namespace std::chrono_literals;

class ConsumerGroup : public corps::testing::BrokerTest {
 protected:
  ConsumerGroup() {
    registry_.bind<corps::proto::Prediction>("Predictions");
    create_topic("Predictions", 4);
  }
};

TEST_F(ConsumerGroup, ANonPositiveSessionTimeoutIsRefusedNamingIt) {
  auto options = consumer_options("workers", {"Predictions"});
  options.session_timeout = 0ms;
  try {
    corps::Consumer consumer(registry_, options);
    FAIL() << "a zero session timeout was accepted";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::config);
    EXPECT_NE(std::string(e.what()).find("session_timeout"), std::string::npos) << e.what();
  }
}

// corps decides when offsets are stored and committed (commit_mode), and
// reads where partitions end: a librdkafka property that took that over
// would commit records before they were handled, or leave a close's failed
// commit with nothing to retry it. Refused, naming the option to use.
TEST_F(ConsumerGroup, PropertiesThatWouldTakeOverCommittingAreRefusedNamingCommitMode) {
  for (const char* property : {"enable.auto.commit", "auto.commit.enable",
                               "enable.auto.offset.store", "enable.partition.eof"}) {
    auto options = consumer_options("workers", {"Predictions"});
    options.properties[property] = "false";
    try {
      corps::Consumer consumer(registry_, options);
      FAIL() << property << " was accepted";
    } catch (const corps::Exception& e) {
      EXPECT_EQ(e.error().stage(), corps::Stage::config);
      EXPECT_NE(std::string(e.what()).find(property), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("commit_mode"), std::string::npos) << e.what();
    }
  }
}

TEST_F(ConsumerGroup, TwoMembersSplitThePartitionsAndTogetherReadEverything) {
  auto first_options = consumer_options("workers", {"Predictions"});
  first_options.client_id = "worker-1";
  auto second_options = consumer_options("workers", {"Predictions"});
  second_options.client_id = "worker-2";
  corps::Consumer first(registry_, first_options);
  corps::Consumer second(registry_, second_options);

  // Both members poll, so both take part in the group's rebalances, until
  // the group settles with two partitions each.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while ((first.assignment().size() != 2 || second.assignment().size() != 2) &&
         std::chrono::steady_clock::now() < deadline) {
    for (auto* consumer : {&first, &second}) ASSERT_FALSE(consumer->poll(100ms).has_value());
  }
  std::set<std::int32_t> all;
  for (const auto& tp : first.assignment()) all.insert(tp.partition);
  for (const auto& tp : second.assignment()) all.insert(tp.partition);
  ASSERT_EQ(all, (std::set<std::int32_t>{0, 1, 2, 3}));

  corps::Producer producer(registry_, producer_options());
  for (int n = 0; n < 40; ++n) {
    corps::proto::Prediction prediction;
    prediction.set_frame(n);
    corps::SendOptions options;
    options.partition = n % 4;
    ASSERT_TRUE(producer.send("Predictions", prediction, options).get().ok());
  }

  std::map<const corps::Consumer*, std::set<std::int32_t>> partitions_of;
  std::set<std::int64_t> frames;
  while (frames.size() < 40 && std::chrono::steady_clock::now() < deadline) {
    for (auto* consumer : {&first, &second}) {
      if (auto record = consumer->poll(100ms)) {
        ASSERT_TRUE(record->ok());
        const bool fresh = frames.insert(record->as<corps::proto::Prediction>().frame()).second;
        EXPECT_TRUE(fresh) << "frame delivered twice";
        partitions_of[consumer].insert(record->partition());
      }
    }
  }
  EXPECT_EQ(frames.size(), 40u);
  EXPECT_EQ(partitions_of[&first].size(), 2u);
  EXPECT_EQ(partitions_of[&second].size(), 2u);
  for (auto p : partitions_of[&first]) EXPECT_EQ(partitions_of[&second].count(p), 0u);
}

// Three members over six partitions, then one leaves cleanly and another
// joins: at every settled point each partition has one owner, and every
// record sent meanwhile is read. On Kafka each exactly once: a member that
// leaves or gives partitions up commits what it handled first. The embedded
// broker refuses that commit while the group rebalances (REBALANCE_IN_PROGRESS),
// so there what was handled since the last automatic commit comes again.
TEST_F(ConsumerGroup, ThreeMembersShareSixPartitionsThroughALeaveAndAJoin) {
  create_topic("Orders", 6);
  registry_.bind<corps::proto::Prediction>("Orders");
  const auto member = [&](const std::string& name) {
    auto options = consumer_options("three", {"Orders"});
    options.client_id = name;
    return std::make_unique<corps::Consumer>(registry_, options);
  };
  std::map<std::string, std::unique_ptr<corps::Consumer>> members;
  for (const char* name : {"a", "b", "c"}) members[name] = member(name);

  std::set<std::int64_t> frames;
  std::size_t repeats = 0;
  const auto poll_all = [&] {
    for (auto& [name, consumer] : members) {
      if (auto record = consumer->poll(50ms)) {
        ASSERT_TRUE(record->ok()) << record->error().to_string();
        if (!frames.insert(record->as<corps::proto::Prediction>().frame()).second) ++repeats;
      }
    }
  };
  // Settled: every partition owned once, each member holding `each`.
  const auto settle = [&](std::size_t each) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      std::multiset<std::int32_t> owned;
      bool even = true;
      for (auto& [name, consumer] : members) {
        const auto assignment = consumer->assignment();
        even = even && assignment.size() == each;
        for (const auto& tp : assignment) owned.insert(tp.partition);
      }
      if (even && owned == std::multiset<std::int32_t>{0, 1, 2, 3, 4, 5}) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      poll_all();
    }
  };
  corps::Producer producer(registry_, producer_options());
  std::int64_t sent = 0;
  const auto send = [&](int count) {
    for (int n = 0; n < count; ++n, ++sent) {
      corps::proto::Prediction prediction;
      prediction.set_frame(sent);
      ASSERT_TRUE(producer.send("Orders", prediction, {.partition = static_cast<std::int32_t>(sent % 6)})
                      .get()
                      .ok());
    }
  };

  ASSERT_TRUE(settle(2)) << "three members never held two partitions each";
  send(60);
  ASSERT_TRUE(members["b"]->close().ok());
  members.erase("b");
  ASSERT_TRUE(settle(3)) << "the two left never took b's partitions";
  send(60);
  members["d"] = member("d");
  ASSERT_TRUE(settle(2)) << "a newcomer never got its share";
  send(60);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (frames.size() < static_cast<std::size_t>(sent) && std::chrono::steady_clock::now() < deadline)
    poll_all();
  EXPECT_EQ(frames.size(), static_cast<std::size_t>(sent));
  if (on_real_kafka()) EXPECT_EQ(repeats, 0U) << "a clean handover redelivers nothing";
}

}  // namespace
