// Sends Image frames on the VideoStream channel, as MessageCorps's
// send_message.py does: 100 frames, one after the other.
//
//   send_frames [--brokers HOST:PORT] [--config FILE] [--count 100] [--interval-ms 10]
//
// Brokers come from --brokers, CORPS_BROKERS, the YAML --config, a running
// `corps broker`, or else an embedded broker in this process.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <thread>

#include "corps/corps.hpp"
#include "corps/image.pb.h"

int main(int argc, char** argv) {
  CLI::App app{"Send Image frames on VideoStream"};
  app.option_defaults()->always_capture_default();  // --help shows every default
  std::string brokers;
  std::string config_file;
  int count = 100;
  int interval_ms = 10;
  app.add_option("--brokers,-b", brokers, "Kafka bootstrap brokers (HOST:PORT,...)");
  app.add_option("--config", config_file, "YAML config (brokers)")->check(CLI::ExistingFile);
  app.add_option("--count,-c", count, "How many frames to send")->check(CLI::NonNegativeNumber);
  app.add_option("--interval-ms", interval_ms, "Pause between frames")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    const auto config = config_file.empty() ? corps::Config{} : corps::Config::load(config_file);
    auto cluster = corps::Brokers::resolve(brokers, config.brokers);
    corps::ChannelRegistry registry;
    const auto video = registry.bind<corps::proto::Image>("VideoStream");
    corps::Producer producer(registry, {.brokers = cluster.bootstrap_servers()});

    // A 10x10 BGR test pattern, like MessageCorps's 10x10 test image.
    const int width = 10;
    const int height = 10;
    int failed = 0;
    for (int frame = 0; frame < count; ++frame) {
      corps::proto::Image image;
      std::string pixels(static_cast<std::size_t>(width * height * 3), '\0');
      for (std::size_t i = 0; i < pixels.size(); ++i)
        pixels[i] = static_cast<char>((i + frame) % 256);
      image.set_image_data(std::move(pixels));
      image.set_width(width);
      image.set_height(height);
      image.set_frame(frame);
      producer.send(video, image, {}, [&failed](const corps::DeliveryReport& report) {
        if (!report.ok()) {
          ++failed;
          std::cerr << report.error().to_string() << '\n';
        }
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
    producer.flush(std::chrono::seconds(30)).throw_if_error();
    std::cout << "sent " << count - failed << " of " << count << " frames to VideoStream\n";
    return failed == 0 ? 0 : 1;
  } catch (const corps::Exception& e) {
    std::cerr << "send_frames: " << e.what() << '\n';
    return 1;
  }
}
