// Sends and receives a user-defined Order with an installed corps, on an
// embedded broker.
#include <corps/corps.hpp>
#include <iostream>

#include "shop/order.pb.h"

int main() {
  corps::EmbeddedBroker broker({.topics = {{"Orders", 1, 1}}});
  corps::ChannelRegistry registry;
  const auto orders = registry.bind<shop::Order>("Orders");
  shop::Order order;
  order.set_item("tea");
  order.set_quantity(3);
  {
    corps::Producer producer(registry, {.brokers = broker.bootstrap_servers()});
    if (!producer.send(orders, order).get().ok()) return 1;
  }
  corps::Consumer consumer(registry, {.brokers = broker.bootstrap_servers(),
                                      .group_id = "package",
                                      .channels = {orders},
                                      .signals = corps::SignalHandling::ignore});
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (auto record = consumer.poll(std::chrono::milliseconds(200))) {
      const auto& received = record->as<shop::Order>();
      std::cout << received.quantity() << " x " << received.item() << ", uuid "
                << record->metadata().uuid() << '\n';
      return received.item() == "tea" && received.metadata().uuid() == order.metadata().uuid() ? 0
                                                                                               : 1;
    }
  }
  return 1;
}
