#include "frame_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <sstream>

#include "corps/error.hpp"

namespace corps::pipeline {

namespace {

constexpr const char* schema = R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS frames (
  trace_id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  frame INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  jpeg BLOB NOT NULL,
  captured_at REAL NOT NULL,
  kafka_partition INTEGER,
  kafka_offset INTEGER
);
CREATE INDEX IF NOT EXISTS frames_by_number ON frames (source, frame);
CREATE INDEX IF NOT EXISTS frames_by_time ON frames (captured_at);
CREATE TABLE IF NOT EXISTS predictions (
  trace_id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  frame INTEGER NOT NULL,
  labels TEXT NOT NULL,
  detector TEXT NOT NULL,
  image_timestamp REAL NOT NULL,
  predicted_at REAL NOT NULL,
  inference_ms REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS detections (
  trace_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  label TEXT NOT NULL,
  score REAL NOT NULL,
  x INTEGER NOT NULL, y INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
  PRIMARY KEY (trace_id, idx)
);
CREATE INDEX IF NOT EXISTS detections_by_label ON detections (label);
)sql";

constexpr const char* frame_columns =
    "SELECT f.trace_id, f.source, f.frame, f.width, f.height, f.jpeg, f.captured_at, "
    "p.trace_id IS NOT NULL, IFNULL(p.labels, ''), IFNULL(p.predicted_at, 0) "
    "FROM frames f LEFT JOIN predictions p ON p.trace_id = f.trace_id ";

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

std::string text_column(sqlite3_stmt* statement, int column) {
  const auto* text = sqlite3_column_text(statement, column);
  return text != nullptr ? reinterpret_cast<const char*>(text) : "";
}

std::vector<std::string> split_labels(const std::string& joined) {
  std::vector<std::string> labels;
  std::istringstream in(joined);
  for (std::string label; std::getline(in, label, ',');) {
    if (!label.empty()) labels.push_back(label);
  }
  return labels;
}

}  // namespace

struct FrameStore::Impl {
  sqlite3* db = nullptr;
  std::string path;

  ~Impl() { sqlite3_close(db); }

  [[noreturn]] void fail(const std::string& what) const {
    throw Exception(Error(Errc::invalid_argument, Stage::handler,
                          "database '" + path + "': " + what + ": " + sqlite3_errmsg(db)));
  }

  Statement prepare(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
      fail("cannot prepare '" + sql + "'");
    return Statement(raw);
  }

  void step_done(sqlite3_stmt* statement, const char* what) {
    if (sqlite3_step(statement) != SQLITE_DONE) fail(what);
  }

  std::vector<StoredFrame> frames(sqlite3_stmt* statement) {
    std::vector<StoredFrame> out;
    int rc = 0;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      StoredFrame frame;
      frame.trace_id = text_column(statement, 0);
      frame.source = text_column(statement, 1);
      frame.frame = sqlite3_column_int64(statement, 2);
      frame.width = sqlite3_column_int(statement, 3);
      frame.height = sqlite3_column_int(statement, 4);
      const auto* blob = static_cast<const char*>(sqlite3_column_blob(statement, 5));
      frame.jpeg.assign(blob != nullptr ? blob : "",
                        static_cast<std::size_t>(sqlite3_column_bytes(statement, 5)));
      frame.captured_at = sqlite3_column_double(statement, 6);
      frame.predicted = sqlite3_column_int(statement, 7) != 0;
      frame.labels = split_labels(text_column(statement, 8));
      frame.predicted_at = sqlite3_column_double(statement, 9);
      out.push_back(std::move(frame));
    }
    if (rc != SQLITE_DONE) fail("query failed");
    return out;
  }
};

FrameStore::FrameStore(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path.string();
  if (sqlite3_open(impl_->path.c_str(), &impl_->db) != SQLITE_OK) {
    throw Exception(
        Error(Errc::invalid_argument, Stage::config,
              "cannot open database '" + impl_->path + "': " + sqlite3_errmsg(impl_->db)));
  }
  sqlite3_busy_timeout(impl_->db, 5000);
  char* message = nullptr;
  if (sqlite3_exec(impl_->db, schema, nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string why = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "cannot create the tables of '" + impl_->path + "': " + why));
  }
}

FrameStore::~FrameStore() = default;

void FrameStore::put_frame(const proto::Image& image, const std::string& jpeg) {
  auto statement =
      impl_->prepare("INSERT OR REPLACE INTO frames VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  const auto& metadata = image.message_data();
  sqlite3_bind_text(statement.get(), 1, metadata.trace_id().c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(statement.get(), 2, image.source().c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(statement.get(), 3, image.frame());
  sqlite3_bind_int(statement.get(), 4, image.width());
  sqlite3_bind_int(statement.get(), 5, image.height());
  sqlite3_bind_blob(statement.get(), 6, jpeg.data(), static_cast<int>(jpeg.size()), SQLITE_STATIC);
  sqlite3_bind_double(statement.get(), 7, metadata.timestamp());
  sqlite3_bind_int64(statement.get(), 8, metadata.partition());
  sqlite3_bind_int64(statement.get(), 9, metadata.offset());
  impl_->step_done(statement.get(), "cannot store a frame");
}

void FrameStore::put_prediction(const proto::Prediction& prediction) {
  const auto& trace_id = prediction.message_data().trace_id();
  std::string labels;
  for (const auto& label : prediction.object()) labels += (labels.empty() ? "" : ",") + label;
  impl_->step_done(impl_->prepare("BEGIN").get(), "cannot begin a transaction");
  auto statement =
      impl_->prepare("INSERT OR REPLACE INTO predictions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  sqlite3_bind_text(statement.get(), 1, trace_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(statement.get(), 2, prediction.source().c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(statement.get(), 3, prediction.frame());
  sqlite3_bind_text(statement.get(), 4, labels.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(statement.get(), 5, prediction.detector().c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(statement.get(), 6, prediction.image_timestamp());
  sqlite3_bind_double(statement.get(), 7, prediction.message_data().timestamp());
  sqlite3_bind_double(statement.get(), 8, prediction.inference_ms());
  impl_->step_done(statement.get(), "cannot store a prediction");
  auto clear = impl_->prepare("DELETE FROM detections WHERE trace_id = ?1");
  sqlite3_bind_text(clear.get(), 1, trace_id.c_str(), -1, SQLITE_TRANSIENT);
  impl_->step_done(clear.get(), "cannot replace detections");
  auto insert = impl_->prepare("INSERT INTO detections VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  for (int i = 0; i < prediction.detections_size(); ++i) {
    const auto& detection = prediction.detections(i);
    sqlite3_reset(insert.get());
    sqlite3_bind_text(insert.get(), 1, trace_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(insert.get(), 2, i);
    sqlite3_bind_text(insert.get(), 3, detection.label().c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(insert.get(), 4, detection.score());
    sqlite3_bind_int(insert.get(), 5, detection.x());
    sqlite3_bind_int(insert.get(), 6, detection.y());
    sqlite3_bind_int(insert.get(), 7, detection.width());
    sqlite3_bind_int(insert.get(), 8, detection.height());
    impl_->step_done(insert.get(), "cannot store a detection");
  }
  impl_->step_done(impl_->prepare("COMMIT").get(), "cannot commit");
}

std::optional<StoredFrame> FrameStore::by_frame(const std::string& source, std::int64_t frame) {
  auto statement =
      impl_->prepare(std::string(frame_columns) + "WHERE f.source = ?1 AND f.frame = ?2");
  sqlite3_bind_text(statement.get(), 1, source.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(statement.get(), 2, frame);
  auto found = impl_->frames(statement.get());
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<StoredFrame> FrameStore::by_label(const std::string& label) {
  auto statement = impl_->prepare(std::string(frame_columns) +
                                  "WHERE f.trace_id IN (SELECT trace_id FROM detections WHERE "
                                  "label = ?1) ORDER BY f.captured_at");
  sqlite3_bind_text(statement.get(), 1, label.c_str(), -1, SQLITE_TRANSIENT);
  return impl_->frames(statement.get());
}

std::vector<StoredFrame> FrameStore::between(double from, double to) {
  auto statement = impl_->prepare(std::string(frame_columns) +
                                  "WHERE f.captured_at BETWEEN ?1 AND ?2 ORDER BY f.captured_at");
  sqlite3_bind_double(statement.get(), 1, from);
  sqlite3_bind_double(statement.get(), 2, to);
  return impl_->frames(statement.get());
}

StoreSummary FrameStore::summary() {
  StoreSummary summary;
  auto count = [&](const char* sql) {
    auto statement = impl_->prepare(sql);
    if (sqlite3_step(statement.get()) != SQLITE_ROW) impl_->fail("cannot count");
    return sqlite3_column_int64(statement.get(), 0);
  };
  summary.frames = count("SELECT COUNT(*) FROM frames");
  summary.predictions = count("SELECT COUNT(*) FROM predictions");
  summary.joined =
      count("SELECT COUNT(*) FROM frames f JOIN predictions p ON p.trace_id = f.trace_id");
  auto labels =
      impl_->prepare("SELECT label, COUNT(*) FROM detections GROUP BY label ORDER BY 2 DESC");
  while (sqlite3_step(labels.get()) == SQLITE_ROW) {
    summary.detections_by_label.emplace_back(text_column(labels.get(), 0),
                                             sqlite3_column_int64(labels.get(), 1));
  }
  auto latencies = impl_->prepare(
      "SELECT p.predicted_at - p.image_timestamp FROM predictions p WHERE p.image_timestamp > 0");
  while (sqlite3_step(latencies.get()) == SQLITE_ROW) {
    summary.latencies.push_back(sqlite3_column_double(latencies.get(), 0));
  }
  std::sort(summary.latencies.begin(), summary.latencies.end());
  return summary;
}

}  // namespace corps::pipeline
