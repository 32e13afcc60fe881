// Keyed page views across partitions:
//
//   page_views produce --count 200 --users 5    events keyed by user
//   page_views consume --group G [--count N]    prints topic/partition/offset/key/value
//
// Equal keys land on one partition, in order. A second consumer in the same
// group takes over half of the partitions; a consumer in another group reads
// everything on its own. Create the topic with several partitions, e.g.
// `corps broker --topic PageViews:4`.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "corps/corps.hpp"
#include "examples/page_view.pb.h"

int main(int argc, char** argv) {
  CLI::App app{"Keyed page views across partitions"};
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.require_subcommand(1);
  std::string brokers;
  std::int64_t count = 200;
  int users = 5;
  std::string group = "page-views";
  std::string instance = "page-views";
  app.add_option("--brokers,-b", brokers,
                 "Kafka brokers (default: CORPS_BROKERS, a running corps broker, embedded)");
  auto* produce = app.add_subcommand("produce", "Send page views keyed by user");
  produce->add_option("--count,-c", count, "How many views");
  produce->add_option("--users", users, "How many users")->check(CLI::PositiveNumber);
  auto* consume = app.add_subcommand("consume", "Print page views as they arrive");
  consume->add_option("--group,-G", group, "Consumer group");
  consume->add_option("--instance", instance, "Client id");
  consume->add_option("--count,-c", count, "Stop after this many (0: run until Ctrl-C)");
  CLI11_PARSE(app, argc, argv);

  try {
    auto cluster = corps::Brokers::resolve(brokers);
    corps::ChannelRegistry registry;
    const auto views = registry.bind<corps::examples::PageView>("PageViews");
    if (produce->parsed()) {
      const char* pages[] = {"/", "/docs", "/pricing", "/blog", "/about"};
      corps::Producer producer(registry, {.brokers = cluster.bootstrap_servers()});
      std::map<std::string, std::int64_t> sequence;
      for (std::int64_t n = 0; n < count; ++n) {
        corps::examples::PageView view;
        view.set_user("user-" + std::to_string(n % users));
        view.set_page(pages[n % 5]);
        view.set_sequence(sequence[view.user()]++);
        producer.send(views, view, {.key = view.user()}, [](const corps::DeliveryReport& report) {
          if (!report.ok()) std::cerr << report.error().to_string() << '\n';
        });
      }
      producer.flush(std::chrono::seconds(30)).throw_if_error();
      std::cout << "sent " << count << " page views of " << users << " users" << std::endl;
      return 0;
    }
    corps::Consumer consumer(registry, {.brokers = cluster.bootstrap_servers(),
                                        .group_id = group,
                                        .client_id = instance,
                                        .channels = {"PageViews"}});
    std::int64_t seen = 0;
    for (auto& record : consumer) {
      if (!record.ok()) {
        std::cerr << record.error().to_string() << '\n';
        continue;
      }
      const auto& view = record.as<corps::examples::PageView>();
      std::cout << record.topic() << ' ' << record.partition() << ' ' << record.offset() << ' '
                << record.key().value_or("-") << ' ' << view.page() << " #" << view.sequence()
                << std::endl;
      if (count > 0 && ++seen >= count) break;
    }
    consumer.close().throw_if_error();
    return 0;
  } catch (const corps::Exception& e) {
    std::cerr << "page_views: " << e.what() << '\n';
    return 1;
  }
}
