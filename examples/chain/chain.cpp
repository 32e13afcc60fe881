// Chained programs passing work, one role per run; brokers, channels and
// groups come from a YAML config, one section per role (see chain.yaml):
//
//   chain request --count N       sends N requests {id, x, y, operation}
//   chain compute --instance w-1  adds or subtracts (run several: one group)
//   chain relay                   passes each result on to Broadcast
//   chain square | chain negate   two groups, both see every relayed result
//
// Each consuming role stops after --count records, or on Ctrl-C.
#include <CLI/CLI.hpp>
#include <iostream>

#include "corps/corps.hpp"
#include "examples/calc.pb.h"

namespace {

using corps::examples::CalcRequest;
using corps::examples::CalcResult;

// What a consuming role does with one message; nullopt: nothing to send on.
using Step = std::function<std::optional<CalcResult>(const google::protobuf::Message&,
                                                     const std::string& instance)>;

std::optional<CalcResult> compute(const google::protobuf::Message& message,
                                  const std::string& instance) {
  const auto& request = dynamic_cast<const CalcRequest&>(message);
  CalcResult result;
  *result.mutable_request() = request;
  result.mutable_request()->clear_metadata();
  result.set_result(request.operation() == corps::examples::SUBTRACT ? request.x() - request.y()
                                                                     : request.x() + request.y());
  result.set_worker(instance);
  result.mutable_metadata()->set_trace_id(request.metadata().trace_id());  // one trace end to end
  std::cout << instance << " computed " << request.id() << " = " << result.result() << std::endl;
  return result;
}

std::optional<CalcResult> relay(const google::protobuf::Message& message, const std::string&) {
  auto result = dynamic_cast<const CalcResult&>(message);
  std::cout << "relay " << result.request().id() << " = " << result.result() << std::endl;
  return result;
}

Step printer(std::string name, double (*transform)(double)) {
  return [name, transform](const google::protobuf::Message& message, const std::string&) {
    const auto& result = dynamic_cast<const CalcResult&>(message);
    std::cout << name << ' ' << result.request().id() << ' ' << result.result() << ' '
              << transform(result.result()) << " (by " << result.worker() << ")" << std::endl;
    return std::optional<CalcResult>{};
  };
}

int run_role(const std::string& role, const corps::Config& all, const std::string& instance,
             std::int64_t count) {
  const auto config = all.section(role);
  corps::ChannelRegistry registry;
  config.bind_channels(registry);
  auto brokers = corps::Brokers::resolve({}, config.brokers);
  corps::ProducerOptions producer_options{.brokers = brokers.bootstrap_servers(),
                                          .client_id = instance};
  producer_options.properties = config.properties;
  corps::Producer producer(registry, producer_options);
  if (role == "request") {
    for (std::int64_t id = 0; id < count; ++id) {
      CalcRequest request;
      request.set_id(id);
      request.set_x(static_cast<double>(id));
      request.set_y(static_cast<double>(2 * id + 1));
      request.set_operation(id % 2 == 0 ? corps::examples::ADD : corps::examples::SUBTRACT);
      const auto report =
          producer.send(config.produce.at(0), request, {.key = std::to_string(id)}).get();
      if (!report.ok()) throw corps::Exception(report.error());
    }
    std::cout << "sent " << count << " requests to " << config.produce.at(0) << std::endl;
    return 0;
  }
  const Step step = role == "compute"  ? Step(compute)
                    : role == "relay"  ? Step(relay)
                    : role == "square" ? printer("square", [](double v) { return v * v; })
                                       : printer("negate", [](double v) { return -v; });
  corps::Consumer consumer(registry, {.brokers = brokers.bootstrap_servers(),
                                      .group_id = config.group_id.empty() ? role : config.group_id,
                                      .client_id = instance,
                                      .channels = config.consume,
                                      .properties = config.properties});
  std::int64_t handled = 0;
  for (auto& record : consumer) {
    if (!record.ok()) {
      std::cerr << record.error().to_string() << '\n';
      continue;
    }
    if (auto out = step(record.message(), instance); out && !config.produce.empty()) {
      // The input counts as handled only once its output is safe.
      if (!producer.send(config.produce.at(0), *out, {.key = std::string(*record.key())})
               .get()
               .ok())
        return 1;
    }
    if (count > 0 && ++handled >= count) break;
  }
  consumer.close().throw_if_error();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chained programs passing work through corps channels"};
  app.option_defaults()->always_capture_default();  // --help shows every default
  std::string role;
  std::string config_file = "chain.yaml";
  std::string instance;
  std::int64_t count = 0;
  app.add_option("role", role, "request, compute, relay, square or negate")
      ->required()
      ->check(CLI::IsMember({"request", "compute", "relay", "square", "negate"}));
  app.add_option("--config", config_file, "YAML config with one section per role")
      ->check(CLI::ExistingFile);
  app.add_option("--instance", instance, "Client id (default: the role)");
  app.add_option("--count,-c", count, "request: how many to send; others: stop after this many");
  CLI11_PARSE(app, argc, argv);
  try {
    return run_role(role, corps::Config::load(config_file), instance.empty() ? role : instance,
                    count);
  } catch (const corps::Exception& e) {
    std::cerr << "chain " << role << ": " << e.what() << '\n';
    return 1;
  }
}
