// Numbers into a database, resumed after a crash:
//
//   numbers send  --count 500 --pause-ms 5     sends 0..499 on Numbers
//   numbers store --db numbers.db              writes each into SQLite
//
// Kill `store` at any point (even kill -9) and start it again: it resumes
// after the last record its group committed. A number handled but not yet
// committed when it died comes again, and the table's key absorbs it: every
// number is stored exactly once.
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "corps/corps.hpp"
#include "examples/number.pb.h"

namespace {

// A table with one row per number; INSERT OR IGNORE makes writes idempotent.
class NumberTable {
 public:
  explicit NumberTable(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK ||
        // Anyone reading the table (sqlite3 in another terminal) locks it
        // for a moment; wait for them instead of failing at once.
        sqlite3_busy_timeout(db_, 10000) != SQLITE_OK ||
        sqlite3_exec(db_, "CREATE TABLE IF NOT EXISTS numbers (value INTEGER PRIMARY KEY)", nullptr,
                     nullptr, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO numbers VALUES (?1)", -1, &insert_,
                           nullptr) != SQLITE_OK) {
      throw corps::Exception(corps::Error(corps::Errc::invalid_argument, corps::Stage::config,
                                          "database '" + path + "': " + sqlite3_errmsg(db_)));
    }
  }
  ~NumberTable() {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }
  // True if the number was new.
  bool insert(std::int64_t value) {
    sqlite3_reset(insert_);
    sqlite3_bind_int64(insert_, 1, value);
    if (sqlite3_step(insert_) != SQLITE_DONE) {
      throw corps::Exception(
          corps::Error(corps::Errc::handler_failed, corps::Stage::handler, sqlite3_errmsg(db_)));
    }
    return sqlite3_changes(db_) == 1;
  }
  // How many numbers the table holds.
  std::int64_t size() {
    sqlite3_stmt* count = nullptr;
    sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM numbers", -1, &count, nullptr);
    const std::int64_t rows =
        sqlite3_step(count) == SQLITE_ROW ? sqlite3_column_int64(count, 0) : 0;
    sqlite3_finalize(count);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Numbers into a database, resumed after a crash"};
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.require_subcommand(1);
  std::string brokers;
  std::int64_t count = 500;
  int pause_ms = 5;
  std::string db = "numbers.db";
  std::string group = "numbers";
  app.add_option("--brokers,-b", brokers,
                 "Kafka brokers (default: CORPS_BROKERS, a running corps broker, embedded)");
  auto* send = app.add_subcommand("send", "Send 0..count-1 on Numbers");
  send->add_option("--count,-c", count, "How many numbers");
  send->add_option("--pause-ms", pause_ms, "Pause between sends");
  auto* store = app.add_subcommand("store", "Write every number into SQLite");
  store->add_option("--db", db, "SQLite file");
  store->add_option("--group,-G", group, "Consumer group");
  store->add_option("--until", count,
                    "Stop once the table holds UNTIL numbers (0: run until Ctrl-C)");
  CLI11_PARSE(app, argc, argv);

  try {
    auto cluster = corps::Brokers::resolve(brokers);
    corps::ChannelRegistry registry;
    const auto numbers = registry.bind<corps::examples::Number>("Numbers");
    if (send->parsed()) {
      corps::Producer producer(registry, {.brokers = cluster.bootstrap_servers()});
      for (std::int64_t n = 0; n < count; ++n) {
        corps::examples::Number number;
        number.set_value(n);
        producer.send(numbers, number, {}, [](const corps::DeliveryReport& report) {
          if (!report.ok()) std::cerr << report.error().to_string() << '\n';
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
      }
      producer.flush(std::chrono::seconds(30)).throw_if_error();
      std::cout << "sent " << count << " numbers" << std::endl;
      return 0;
    }
    NumberTable table(db);
    corps::Consumer consumer(
        registry,
        {.brokers = cluster.bootstrap_servers(), .group_id = group, .channels = {"Numbers"}});
    std::int64_t stored = 0;
    std::int64_t again = 0;
    for (auto& record : consumer) {
      if (!record.ok()) {
        std::cerr << record.error().to_string() << '\n';
        continue;
      }
      const auto value = record.as<corps::examples::Number>().value();
      if (stored + again == 0)
        std::cout << "resuming at offset " << record.offset() << " (number " << value << ")"
                  << std::endl;
      (table.insert(value) ? stored : again) += 1;
      // Only a handled record is committed: one that dies here comes back.
      if (count > 0 && table.size() >= count) consumer.stop();
    }
    consumer.close().throw_if_error();
    std::cout << "stored " << stored << " new numbers, " << again << " delivered again and absorbed"
              << std::endl;
    return 0;
  } catch (const corps::Exception& e) {
    std::cerr << "numbers: " << e.what() << '\n';
    return 1;
  }
}
