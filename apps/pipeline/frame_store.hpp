// The pipeline's database: frames (as JPEG) and their predictions, in SQLite.
//
// Frames and predictions are written as they arrive, in any order, keyed by
// trace id (which a Prediction carries over from its Image); reads join them.
// Writes are idempotent (a record delivered twice is stored once), so the
// store service can commit after writing and lose nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corps/error.hpp"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"

namespace corps::pipeline {

/// One stored frame with its prediction, if that has arrived.
struct StoredFrame {
  std::string trace_id;
  std::string source;
  std::int64_t frame = 0;
  int width = 0;
  int height = 0;
  std::string jpeg;
  /// Capture time (the Image's metadata timestamp), seconds since the epoch.
  double captured_at = 0;
  /// Whether a prediction for this frame is stored.
  bool predicted = false;
  std::vector<std::string> labels;
  /// The Prediction's metadata timestamp.
  double predicted_at = 0;
};

/// Counts over the whole store.
struct StoreSummary {
  std::int64_t frames = 0;
  std::int64_t predictions = 0;
  /// Frames whose prediction is stored too.
  std::int64_t joined = 0;
  /// Detections per label.
  std::vector<std::pair<std::string, std::int64_t>> detections_by_label;
  /// Seconds from capture to prediction, one per joined frame, sorted.
  std::vector<double> latencies;
};

/// A SQLite database file of frames and predictions. Not thread-safe.
class FrameStore {
 public:
  /// Opens (creating if needed) the database at `path`. Throws
  /// corps::Exception (Stage::config) if it cannot.
  explicit FrameStore(const std::filesystem::path& path);
  ~FrameStore();
  FrameStore(const FrameStore&) = delete;
  FrameStore& operator=(const FrameStore&) = delete;

  /// Stores a frame's JPEG and metadata; a second write of the same trace id
  /// replaces the first. Throws corps::Exception on a database error.
  void put_frame(const proto::Image& image, const std::string& jpeg);
  /// Stores a prediction and its detections; idempotent likewise.
  void put_prediction(const proto::Prediction& prediction);

  /// The frame `frame` of `source`, with its prediction if stored.
  [[nodiscard]] std::optional<StoredFrame> by_frame(const std::string& source, std::int64_t frame);
  /// Frames in which something labelled `label` was detected, oldest first.
  [[nodiscard]] std::vector<StoredFrame> by_label(const std::string& label);
  /// Frames captured in [from, to] (seconds since the epoch), oldest first.
  [[nodiscard]] std::vector<StoredFrame> between(double from, double to);
  /// Totals for the launcher's summary.
  [[nodiscard]] StoreSummary summary();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corps::pipeline
