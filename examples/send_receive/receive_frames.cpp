// Receives Image frames from the VideoStream channel and prints each with its
// metadata, as MessageCorps's recieve_message.py does.
//
//   receive_frames [--brokers HOST:PORT] [--config FILE] [--group G] [--count N]
//
// Stops after --count frames, or on Ctrl-C, committing what it printed.
#include <google/protobuf/text_format.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "corps/corps.hpp"
#include "corps/image.pb.h"

int main(int argc, char** argv) {
  CLI::App app{"Print Image frames from VideoStream"};
  app.option_defaults()->always_capture_default();  // --help shows every default
  std::string brokers;
  std::string config_file;
  std::string group;
  int count = 0;
  app.add_option("--brokers,-b", brokers, "Kafka bootstrap brokers (HOST:PORT,...)");
  app.add_option("--config", config_file, "YAML config (brokers, group)")->check(CLI::ExistingFile);
  app.add_option("--group,-G", group,
                 "Consumer group (default: the config's, else receive-frames)");
  app.add_option("--count,-c", count, "Stop after this many frames (0: run until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    const auto config = config_file.empty() ? corps::Config{} : corps::Config::load(config_file);
    auto cluster = corps::Brokers::resolve(brokers, config.brokers);
    if (group.empty()) group = config.group_id.empty() ? "receive-frames" : config.group_id;
    corps::ChannelRegistry registry;
    registry.bind<corps::proto::Image>("VideoStream");
    corps::Consumer consumer(
        registry,
        {.brokers = cluster.bootstrap_servers(), .group_id = group, .channels = {"VideoStream"}});
    int received = 0;
    for (auto& record : consumer) {
      if (!record.ok()) {
        std::cerr << record.error().to_string() << '\n';
        continue;
      }
      // The pixels are bytes; print their size instead of their content.
      auto image = record.as<corps::proto::Image>();
      const auto pixels = image.image_data().size();
      image.clear_image_data();
      std::string text;
      google::protobuf::TextFormat::PrintToString(image, &text);
      std::cout << "--- " << record.location().to_string() << " (" << pixels
                << " bytes of pixels)\n"
                << text << std::flush;
      if (count > 0 && ++received >= count) break;
    }
    consumer.close().throw_if_error();
    return 0;
  } catch (const corps::Exception& e) {
    std::cerr << "receive_frames: " << e.what() << '\n';
    return 1;
  }
}
