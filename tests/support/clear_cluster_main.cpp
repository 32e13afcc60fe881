// corps_clear_cluster BROKERS: empties a real Kafka cluster for the next test
// (corps::testing::clear_cluster), so the shell tests labelled kafka start, as
// those on the embedded broker do, on a cluster with no topic and no group.
#include <iostream>

#include "corps/error.hpp"
#include "corps/testing/broker_test.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: corps_clear_cluster HOST:PORT[,...]\n";
    return 2;
  }
  try {
    corps::testing::clear_cluster(argv[1]);
  } catch (const corps::Exception& e) {
    std::cerr << "corps_clear_cluster: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
