// A schema's life on a schema registry: version 1 is produced, a consumer
// built on version 2 (one new field) reads those records, and version 3 (a
// field whose type changes) is refused before anything is sent. The
// schemas are .proto files read at run time (v1/, v2/, v3/ beside this
// file), so one program plays every version.
//
//   schema_evolution produce --registry URL --proto v1/shop/order.proto [--count 3]
//   schema_evolution consume --registry URL --proto v2/shop/order.proto [--count 3]
//
// Brokers: -b, else CORPS_BROKERS, else a running `corps broker` (start it
// with --registry for the URL). The channel is Orders, in the registry's
// format; shop.Order has no metadata field, so corps's metadata rides in
// the corps-metadata header.
#include <google/protobuf/util/json_util.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "corps/corps.hpp"
#include "corps/schema_registry.hpp"

namespace {

namespace pb = google::protobuf;

struct Args {
  std::string brokers;
  std::string registry_url;
  std::string proto;
  int count = 3;
};

// shop.Order as the given version of the file declares it, bound to Orders.
corps::ChannelRegistry bind_orders(const std::string& proto) {
  const std::filesystem::path path(proto);
  corps::SchemaSet schemas;
  // The version's directory is the import root, so every version's file is
  // "shop/order.proto", as it would be in one repository over time.
  schemas.add_include_dir(path.parent_path().parent_path());
  schemas.add_proto_file(path);
  corps::ChannelRegistry registry;
  (void)registry.bind("Orders", "shop.Order", schemas.build(), corps::WireFormat::confluent);
  return registry;
}

std::string brokers_of(const Args& args) {
  const auto found = corps::Brokers::find(args.brokers);
  if (!found) {
    throw corps::Exception(corps::Error(corps::Errc::broker_unreachable, corps::Stage::connect,
                                        "no brokers: give -b, set CORPS_BROKERS or start "
                                        "`corps broker --registry`"));
  }
  return found->bootstrap_servers();
}

int produce(const Args& args) {
  const auto registry = bind_orders(args.proto);
  corps::ProducerOptions options{.brokers = brokers_of(args), .client_id = "orders-producer"};
  options.schema_registry.client = std::make_shared<corps::SchemaRegistryClient>(
      corps::SchemaRegistryOptions{.url = args.registry_url});
  options.handler.metadata.sending_service = "orders-producer";
  // The schema is checked and registered here, before any record exists.
  corps::Producer producer(registry, options);
  const auto& type = *registry.at("Orders").type();
  for (int n = 1; n <= args.count; ++n) {
    auto order = registry.at("Orders").new_message();
    const auto* reflection = order->GetReflection();
    reflection->SetString(order.get(), type.FindFieldByName("id"), "order-" + std::to_string(n));
    if (type.FindFieldByName("cents")->type() == pb::FieldDescriptor::TYPE_INT64) {
      reflection->SetInt64(order.get(), type.FindFieldByName("cents"), 250 * n);
    }
    if (const auto* currency = type.FindFieldByName("currency")) {
      reflection->SetString(order.get(), currency, "EUR");
    }
    const auto report = producer.send("Orders", *order).get();
    if (!report.ok()) throw corps::Exception(report.error());
    std::cout << "sent " << order->ShortDebugString() << " at " << report.location().to_string()
              << '\n';
  }
  const auto id = options.schema_registry.client->version("Orders-value");
  std::cout << "Orders-value version " << id.version << " is schema id " << id.id << '\n';
  return 0;
}

int consume(const Args& args) {
  const auto registry = bind_orders(args.proto);
  corps::Consumer consumer(registry, {.brokers = brokers_of(args),
                                      .group_id = "",  // the whole channel, no group
                                      .client_id = "orders-reader",
                                      .channels = {"Orders"}});
  int read = 0;
  for (const auto& record : consumer) {
    if (!record.ok()) {
      std::cout << "failed " << record.error().to_string() << '\n';
    } else {
      std::string json;
      (void)pb::util::MessageToJsonString(record.message(), &json);
      std::cout << "read " << json << " (schema id " << record.schema_id().value_or(-1) << ", from "
                << record.metadata().sending_service() << ")\n";
    }
    if (++read == args.count) break;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A schema's versions on a schema registry: produce with one, consume with another"};
  app.option_defaults()->always_capture_default();
  app.require_subcommand(1);
  Args args;
  for (auto* command :
       {app.add_subcommand("produce", "Register the schema (if compatible) and send orders"),
        app.add_subcommand("consume", "Read orders with this version of the schema")}) {
    command->add_option("-b,--brokers", args.brokers,
                        "Bootstrap brokers (default: as corps finds them)");
    command->add_option("--registry", args.registry_url, "The schema registry's URL")->required();
    command->add_option("--proto", args.proto, "The version's shop/order.proto")
        ->required()
        ->check(CLI::ExistingFile);
    command->add_option("-c,--count", args.count, "How many orders")->check(CLI::PositiveNumber);
  }
  CLI11_PARSE(app, argc, argv);
  try {
    return app.got_subcommand("produce") ? produce(args) : consume(args);
  } catch (const corps::Exception& e) {
    std::cerr << "schema_evolution: " << e.what() << '\n';
    return 1;
  }
}
