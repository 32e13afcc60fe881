#include "corps/registry.hpp"

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include "corps/consumer.hpp"
#include "corps/dead_letter.pb.h"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"
#include "corps_test/test_types.pb.h"
#include "messagecorps/image.pb.h"
#include "support/expect.hpp"

namespace {

namespace pb = google::protobuf;
using corps::ChannelRegistry;
using corps::Errc;
using corps::Stage;

using corps_tests::error_of;

// A pool holding the MessageCorps schemas as dynamic types, as a tool that
// loads a descriptor set would have them.
std::shared_ptr<const pb::DescriptorPool> messagecorps_pool() {
  auto pool = std::make_shared<pb::DescriptorPool>();
  for (const auto* file : {protobuf::common::messageData::descriptor()->file(),
                           protobuf::image::Image::descriptor()->file()}) {
    pb::FileDescriptorProto proto;
    file->CopyTo(&proto);
    EXPECT_NE(pool->BuildFile(proto), nullptr);
  }
  return pool;
}

TEST(Registry, BindsATypedChannel) {
  ChannelRegistry registry;
  const auto video = registry.bind<corps::proto::Image>("VideoStream");
  EXPECT_EQ(video.name(), "VideoStream");
  const auto* binding = registry.find("VideoStream");
  ASSERT_NE(binding, nullptr);
  EXPECT_EQ(binding->type(), corps::proto::Image::descriptor());
  EXPECT_EQ(binding->metadata_field()->number(), 5);
  EXPECT_EQ(registry.channels(), std::vector<std::string>{"VideoStream"});
}

TEST(Registry, FindsTheMetadataFieldByItsTypeNotItsName) {
  ChannelRegistry registry;
  registry.bind<corps_test::Reading>("Readings");
  const auto* field = registry.at("Readings").metadata_field();
  EXPECT_EQ(field->name(), "stamp");
  EXPECT_EQ(field->number(), 7);
}

TEST(Registry, RefusesATypeWithoutMetadataNamingChannelAndType) {
  ChannelRegistry registry;
  const auto error = error_of([&] { registry.bind<corps_test::NoMetadata>("Notes"); });
  EXPECT_EQ(error.code(), Errc::no_metadata_field);
  EXPECT_EQ(error.stage(), Stage::bind);
  EXPECT_NE(error.message().find("'Notes'"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("corps_test.NoMetadata"), std::string::npos) << error.message();
  EXPECT_EQ(registry.find("Notes"), nullptr);
}

TEST(Registry, RefusesAFieldThatIsMetadataByNameOnly) {
  ChannelRegistry registry;
  const auto error = error_of([&] { registry.bind<corps_test::Impostor>("Impostors"); });
  EXPECT_EQ(error.code(), Errc::no_metadata_field);
}

TEST(Registry, RefusesATypeWithTwoMetadataFields) {
  ChannelRegistry registry;
  const auto error = error_of([&] { registry.bind<corps_test::TwoMetadata>("Twice"); });
  EXPECT_EQ(error.code(), Errc::no_metadata_field);
  EXPECT_NE(error.message().find("'first'"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("'second'"), std::string::npos) << error.message();
}

TEST(Registry, RefusesRebindingAChannelToAnotherTypeNamingBoth) {
  ChannelRegistry registry;
  registry.bind<corps::proto::Image>("VideoStream");
  const auto error = error_of([&] { registry.bind<corps::proto::Prediction>("VideoStream"); });
  EXPECT_EQ(error.code(), Errc::type_mismatch);
  EXPECT_NE(error.message().find("VideoStream"), std::string::npos);
  EXPECT_NE(error.message().find("corps.proto.Image"), std::string::npos);
  EXPECT_NE(error.message().find("corps.proto.Prediction"), std::string::npos);
}

TEST(Registry, RebindingTheSameTypeIsHarmless) {
  ChannelRegistry registry;
  registry.bind<corps::proto::Image>("VideoStream");
  EXPECT_NO_THROW(registry.bind<corps::proto::Image>("VideoStream"));
  EXPECT_EQ(registry.channels().size(), 1u);
}

TEST(Registry, RefusesAnEmptyChannelName) {
  ChannelRegistry registry;
  EXPECT_EQ(error_of([&] { registry.bind<corps::proto::Image>(""); }).code(),
            Errc::invalid_argument);
}

TEST(Registry, AnUnknownChannelErrorNamesTheBoundChannels) {
  ChannelRegistry registry;
  registry.bind<corps::proto::Image>("VideoStream");
  registry.bind<corps::proto::Prediction>("Predictions");
  const auto error = error_of([&] { (void)registry.at("Videostream"); });
  EXPECT_EQ(error.code(), Errc::unknown_channel);
  EXPECT_EQ(error.stage(), Stage::bind);
  EXPECT_NE(error.message().find("'Videostream'"), std::string::npos);
  EXPECT_NE(error.message().find("Predictions, VideoStream"), std::string::npos) << error.message();
}

TEST(Registry, CheckRefusesAnotherTypeNamingChannelAndBothTypes) {
  ChannelRegistry registry;
  registry.bind<corps::proto::Image>("VideoStream");
  const auto error = error_of(
      [&] { (void)registry.check("VideoStream", corps::proto::Prediction::descriptor()); });
  EXPECT_EQ(error.code(), Errc::type_mismatch);
  EXPECT_EQ(error.to_string(),
            "bind error (type_mismatch): channel 'VideoStream' carries corps.proto.Image, not "
            "corps.proto.Prediction");
}

TEST(Registry, BindsSeveralTypesToAChannelAndFindsEachByName) {
  ChannelRegistry registry;
  registry.bind_types<corps::proto::Image, corps::proto::Prediction>("Mixed");
  EXPECT_EQ(registry.type_count("Mixed"), 2u);
  EXPECT_EQ(registry.type_count("Nowhere"), 0u);
  EXPECT_EQ(registry.find("Mixed")->type(), corps::proto::Image::descriptor()) << "the first";
  ASSERT_NE(registry.find("Mixed", "corps.proto.Prediction"), nullptr);
  EXPECT_EQ(registry.find("Mixed", "corps.proto.Prediction")->metadata_field()->name(),
            "message_data");
  EXPECT_EQ(registry.find("Mixed", "corps.proto.DeadLetter"), nullptr);
  EXPECT_EQ(registry.bindings("Mixed").size(), 2u);
  EXPECT_EQ(&registry.check("Mixed", corps::proto::Prediction::descriptor()),
            registry.find("Mixed", "corps.proto.Prediction"));
  const auto error =
      error_of([&] { (void)registry.check("Mixed", corps::proto::DeadLetter::descriptor()); });
  EXPECT_EQ(error.message(),
            "channel 'Mixed' carries corps.proto.Image or corps.proto.Prediction, not "
            "corps.proto.DeadLetter");
  // Adding one of them again is harmless; a third type joins them.
  registry.bind_types<corps::proto::Prediction, corps::proto::DeadLetter>("Mixed");
  EXPECT_EQ(registry.type_count("Mixed"), 3u);
  EXPECT_EQ(registry.channels(), std::vector<std::string>{"Mixed"});
}

TEST(Registry, SeveralTypesOfAChannelShareItsFormatAndBindKeepsOneType) {
  ChannelRegistry registry;
  registry.bind_types<corps::proto::Image>("Mixed");
  const auto format = error_of([&] {
    registry.add_type("Mixed", corps_test::Reading::default_instance(),
                      corps::WireFormat::confluent);
  });
  EXPECT_EQ(format.code(), Errc::invalid_argument);
  EXPECT_NE(format.message().find("shares its format"), std::string::npos) << format.message();
  const auto single = error_of([&] { registry.bind<corps::proto::Prediction>("Mixed"); });
  EXPECT_EQ(single.code(), Errc::type_mismatch);
  EXPECT_NE(single.message().find("bind_types"), std::string::npos) << single.message();
}

TEST(Registry, BindsByFullTypeNameFromTheGeneratedPool) {
  ChannelRegistry registry;
  const auto& binding = registry.bind("Predictions", "corps.proto.Prediction");
  EXPECT_EQ(binding.type(), corps::proto::Prediction::descriptor());
  EXPECT_EQ(binding.metadata_field()->number(), 3);
}

TEST(Registry, RefusesATypeNameItCannotFind) {
  ChannelRegistry registry;
  const auto error = error_of([&] { registry.bind("X", "corps.proto.Nope"); });
  EXPECT_EQ(error.code(), Errc::invalid_argument);
  EXPECT_NE(error.message().find("corps.proto.Nope"), std::string::npos);
}

TEST(Registry, BindsMessageCorpsTypesFromADescriptorPoolByShape) {
  ChannelRegistry registry;
  const auto& binding = registry.bind("VideoStream", "protobuf.image.Image", messagecorps_pool());
  EXPECT_EQ(binding.type()->full_name(), "protobuf.image.Image");
  EXPECT_EQ(binding.metadata_field()->name(), "_message_data");
  // Dynamic: not the compiled-in descriptor.
  EXPECT_NE(binding.type(), protobuf::image::Image::descriptor());
  auto message = binding.new_message();
  EXPECT_EQ(message->GetDescriptor(), binding.type());
}

TEST(Registry, CopiesShareBindingsAndOutliveTheirPool) {
  ChannelRegistry copy;
  {
    ChannelRegistry registry;
    registry.bind("VideoStream", "protobuf.image.Image", messagecorps_pool());
    copy = registry;
  }
  ASSERT_NE(copy.find("VideoStream"), nullptr);
  EXPECT_EQ(copy.find("VideoStream")->new_message()->GetTypeName(), "protobuf.image.Image");
}

}  // namespace

namespace {

TEST(Channel, NamesItsChannelWhereAStringIsWanted) {
  corps::ChannelRegistry registry;
  const auto frames = registry.bind<corps::proto::Image>("VideoStream");
  const auto predictions = registry.bind<corps::proto::Prediction>("Predictions");
  corps::ConsumerOptions options;
  options.channels = {frames, predictions, "Other"};
  EXPECT_EQ(options.channels, (std::vector<std::string>{"VideoStream", "Predictions", "Other"}));
}

}  // namespace
